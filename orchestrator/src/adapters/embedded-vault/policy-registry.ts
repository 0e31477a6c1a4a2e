import { Acl } from './acl.ts';
import { parsePolicy, type PathRule } from './policy-parser.ts';
import type { VaultState } from './vault-state.ts';

/** Vault's built-in `default` policy, reduced to the endpoints the embedded store serves. */
export const DEFAULT_POLICY = `# Allow tokens to look up, renew and revoke themselves, and to use response wrapping.
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/wrapping/lookup" { capabilities = ["update"] }
path "sys/wrapping/unwrap" { capabilities = ["update"] }
`;

/** The internal policy of wrapping tokens: they can only be unwrapped or looked up. */
export const RESPONSE_WRAPPING_POLICY = 'response-wrapping';
const RESPONSE_WRAPPING_RULES: PathRule[] = [
  { pattern: 'sys/wrapping/unwrap', capabilities: ['update'] },
  { pattern: 'sys/wrapping/lookup', capabilities: ['update'] },
];

/** Policies by name, parsed once per text, and the ACL of a set of policy names. */
export class PolicyRegistry {
  private readonly state: VaultState;
  private readonly parsed = new Map<string, PathRule[]>();

  constructor(state: VaultState) {
    this.state = state;
    this.state.policies['default'] ??= DEFAULT_POLICY;
  }

  /** Validates and stores a policy; throws Vault's 400 on a parse error. */
  put(name: string, text: string): void {
    this.parsed.set(text, parsePolicy(text));
    this.state.policies[name] = text;
  }

  aclFor(names: string[]): Acl {
    const policies = names.flatMap((name) => {
      if (name === 'root') return [{ name, rules: [] }];
      if (name === RESPONSE_WRAPPING_POLICY) return [{ name, rules: RESPONSE_WRAPPING_RULES }];
      const text = this.state.policies[name];
      // A token keeps naming a deleted policy; like Vault, that name then grants nothing.
      return text === undefined ? [] : [{ name, rules: this.rules(text) }];
    });
    return new Acl(policies);
  }

  private rules(text: string): PathRule[] {
    let rules = this.parsed.get(text);
    if (!rules) {
      rules = parsePolicy(text);
      this.parsed.set(text, rules);
    }
    return rules;
  }
}

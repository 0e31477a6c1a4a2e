import type { Capability, PathRule } from './policy-parser.ts';

/** The operation a request performs, as Vault names them in policies. */
export type Operation = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list';

interface CompiledRule {
  pattern: string;
  capabilities: Set<Capability>;
  isGlob: boolean;
  hasPlus: boolean;
  segments: string[];
}

function firstWildcard(pattern: string): number {
  const positions = [pattern.indexOf('+'), pattern.indexOf('*')].filter((p) => p >= 0);
  return positions.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...positions);
}

function plusCount(rule: CompiledRule): number {
  return rule.segments.filter((segment) => segment === '+').length;
}

/** Vault's documented priority: returns > 0 when `a` wins over `b`. */
export function comparePriority(a: CompiledRule, b: CompiledRule): number {
  const wildA = firstWildcard(a.pattern);
  const wildB = firstWildcard(b.pattern);
  if (wildA !== wildB) return wildA - wildB;
  if (a.isGlob !== b.isGlob) return a.isGlob ? -1 : 1;
  if (plusCount(a) !== plusCount(b)) return plusCount(b) - plusCount(a);
  if (a.pattern.length !== b.pattern.length) return a.pattern.length - b.pattern.length;
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}

function matches(rule: CompiledRule, path: string): boolean {
  if (!rule.hasPlus) return rule.isGlob ? path.startsWith(rule.pattern.slice(0, -1)) : path === rule.pattern;
  const body = rule.isGlob ? rule.pattern.slice(0, -1) : rule.pattern;
  const patternSegments = body.split('/');
  const pathSegments = path.split('/');
  for (let i = 0; i < patternSegments.length; i++) {
    const want = patternSegments[i] ?? '';
    const have = pathSegments[i];
    if (have === undefined) return false;
    const last = i === patternSegments.length - 1;
    if (want === '+') {
      if (last && !rule.isGlob && pathSegments.length !== patternSegments.length) return false;
      continue;
    }
    if (last && rule.isGlob) return have.startsWith(want);
    if (want !== have) return false;
    if (last && pathSegments.length !== patternSegments.length) return false;
  }
  return true;
}

/**
 * The merged ACL of a token's policies. Capabilities of the same pattern are merged across policies,
 * and `deny` on a pattern overrides everything else granted on it; among the patterns that match a
 * path, the most specific one (Vault's priority rules) decides.
 */
export class Acl {
  private readonly root: boolean;
  private readonly exact = new Map<string, CompiledRule>();
  private readonly wildcard: CompiledRule[] = [];

  constructor(policies: { name: string; rules: PathRule[] }[]) {
    this.root = policies.some((policy) => policy.name === 'root');
    const merged = new Map<string, Set<Capability>>();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        const set = merged.get(rule.pattern) ?? new Set<Capability>();
        for (const capability of rule.capabilities) set.add(capability);
        merged.set(rule.pattern, set);
      }
    }
    for (const [pattern, capabilities] of merged) {
      const compiled: CompiledRule = {
        pattern,
        capabilities: capabilities.has('deny') ? new Set<Capability>(['deny']) : capabilities,
        isGlob: pattern.endsWith('*'),
        hasPlus: pattern.split('/').includes('+'),
        segments: pattern.split('/'),
      };
      if (compiled.isGlob || compiled.hasPlus) this.wildcard.push(compiled);
      else this.exact.set(pattern, compiled);
    }
  }

  /** The capabilities that apply to a path (empty when nothing matches). */
  capabilitiesFor(path: string): Set<Capability> {
    if (this.root)
      return new Set<Capability>(['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo']);
    const exact = this.exact.get(path);
    if (exact) return exact.capabilities;
    let best: CompiledRule | undefined;
    for (const rule of this.wildcard) {
      if (matches(rule, path) && (!best || comparePriority(rule, best) > 0)) best = rule;
    }
    return best?.capabilities ?? new Set<Capability>();
  }

  /** Whether the operation is allowed on the path; `needsSudo` for Vault's root-protected paths. */
  allows(path: string, operation: Operation, needsSudo = false): boolean {
    const capabilities = this.capabilitiesFor(path);
    if (capabilities.has('deny')) return false;
    if (needsSudo && !capabilities.has('sudo')) return false;
    return capabilities.has(operation);
  }
}

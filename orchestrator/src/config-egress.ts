import path from 'node:path';
import * as z from 'zod';
import { envNumber } from './config-env-number.ts';
import { badEntriesNotice } from './config-list-entries.ts';
import { EgressRuleIdnError, EgressRuleScopeError, parseEgressRule, type EgressRule } from './domain/egress-allow-list.ts';

// The egress settings' part of the orchestrator's environment schema, kept beside config.ts (which merges
// it in and alone reads the environment) so that file stays one screenful per concern.

const entries = (value: string): string[] => value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');

/** Why `entry` is no rule: `spelling` (not host[:port] and the like), the message of a rule on a public suffix or of an unfit IDN, or null for a rule. */
const ruleProblem = (entry: string): string | null => {
  try {
    parseEgressRule(entry);
    return null;
  } catch (error) {
    return error instanceof EgressRuleScopeError || error instanceof EgressRuleIdnError ? error.message : 'spelling';
  }
};

export const egressEnvShape = {
  /**
   * How Docker agents reach the internet. `proxy`: their networks are internal (no route out) and they
   * reach only the hosts on their allow-list, through the egress proxy on their network's gateway.
   * `open`: routed networks, any host (no allow-list). Default proxy. Docker only: on Kubernetes the
   * fleet-agent chart's egress policy decides.
   */
  FLEET_AGENT_EGRESS: z.enum(['proxy', 'open'], { error: 'must be proxy or open' }).default('proxy'),
  /** Port of the egress proxy on each client network's gateway. Default 7402. */
  FLEET_EGRESS_PROXY_PORT: envNumber(z.number().int().min(1).max(65535)).default(7402),
  /**
   * Hosts every agent may reach besides the provider hosts its config needs, comma-separated:
   * `host[:port]`, `*.domain[:port]` or an IP literal (`[v6]:port`); the port defaults to 443; a name may be
   * written in Unicode (`*.bücher.de`), and is enforced in its punycode form. Default none.
   */
  FLEET_EGRESS_EXTRA_HOSTS: z
    .string()
    .default('')
    .superRefine((value, context) => {
      // Each bad entry by name: in a list of twenty hosts, "one of them" says not which.
      const problems = entries(value).map((entry) => ({ entry, problem: ruleProblem(entry) }));
      const misspelt = problems.filter(({ problem }) => problem === 'spelling').map(({ entry }) => entry);
      if (misspelt.length > 0) {
        context.addIssue({ code: 'custom', message: `must be host[:port], *.domain[:port] or IP literals, comma-separated; ${badEntriesNotice(misspelt)}` });
      }
      // A rule on a public suffix or an unfit IDN is spelt right: its own message says what is wrong with it (a few, not a flood).
      const overBroad = [...new Set(problems.flatMap(({ problem }) => (problem === null || problem === 'spelling' ? [] : [problem])))];
      for (const message of overBroad.slice(0, 3)) context.addIssue({ code: 'custom', message });
    }),
  /**
   * `on`: the orchestrator keeps an iptables chain (AGENT-FLEET-INPUT) by which a client network reaches on
   * the host only what is bound to its own gateway address (needs root). `off`: the host's services on
   * non-loopback addresses are for the operator to keep from the bridges. Default on. Docker only.
   */
  FLEET_HOST_FIREWALL: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
} as const;

type EgressEnv = { [K in keyof typeof egressEnvShape]: z.output<(typeof egressEnvShape)[K]> };

export interface EgressConfig {
  /** `proxy`: internal client networks and the allow-listing proxy; `open`: routed networks (Docker). */
  mode: 'proxy' | 'open';
  proxyPort: number;
  /** Rules every client gets on top of its provider hosts. */
  extraRules: EgressRule[];
  /** JSON lines of refused requests and of allowed ones whose host was not reached (client, host, time, reason): <AGENT_FLEET_HOME>/egress/refused.jsonl. */
  refusalLogFile: string;
  /** Of the host, client networks reach only what is bound to their own gateway address (Docker). */
  hostFirewall: boolean;
}

/** Cross-field problems of the egress settings, each with the variable it concerns. */
export function egressSettingsIssues(
  env: EgressEnv & { FLEET_RUNTIME: string; VAULT_ADDR?: string | undefined; EMBEDDED_VAULT_PORT: number },
): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  if (env.FLEET_RUNTIME === 'docker' && env.FLEET_AGENT_EGRESS === 'proxy' && env.VAULT_ADDR) {
    // An internal network reaches only its gateway; the Vault client would need the proxy, and it cannot tunnel.
    issues.push({ path: ['FLEET_AGENT_EGRESS'], message: 'proxy keeps agents on internal networks, where an external VAULT_ADDR is out of reach: use the embedded store, or set open' });
  }
  if (env.FLEET_EGRESS_PROXY_PORT === env.EMBEDDED_VAULT_PORT) {
    issues.push({ path: ['FLEET_EGRESS_PROXY_PORT'], message: 'must differ from EMBEDDED_VAULT_PORT (both listen on every gateway)' });
  }
  return issues;
}

export function egressConfigOf(env: EgressEnv & { AGENT_FLEET_HOME: string }): EgressConfig {
  return {
    mode: env.FLEET_AGENT_EGRESS,
    proxyPort: env.FLEET_EGRESS_PROXY_PORT,
    extraRules: entries(env.FLEET_EGRESS_EXTRA_HOSTS).map(parseEgressRule),
    refusalLogFile: path.join(env.AGENT_FLEET_HOME, 'egress', 'refused.jsonl'),
    hostFirewall: env.FLEET_HOST_FIREWALL === 'on',
  };
}

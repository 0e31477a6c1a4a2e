import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { ItemOutcome } from '../../domain/onboarding-checklist.ts';
import type { AgentControl } from '../../ports/agent-control.ts';
import type { AgentIsolationInspector } from '../../ports/agent-isolation.ts';
import type { OpsLogEntry, Registry } from '../../ports/registry.ts';
import type { AgentProxyService } from '../agent-proxy.ts';
import { outcomeOfCheckError } from './check-failure.ts';
import { ONBOARDING_ACTIONS } from './doctor-records.ts';

/** The providers' own mail hosts: a round against them is not a sandbox. */
const PROVIDER_HOSTS =
  /(^|\.)(googleapis\.com|google\.com|graph\.microsoft\.com|outlook\.office(365)?\.com|microsoftonline\.com)$/i;

/** What the agent's control API reports (`GET /v1/status`), as far as the sandbox round reads it. */
interface AgentStatus {
  dryRun?: unknown;
  connection?: unknown;
  messages?: Record<string, unknown>;
  outbox?: { sent?: unknown };
}

/** A count as the agent reports it: absent is none, anything but a whole non-negative number is unknown (null). */
function count(value: unknown): number | null {
  if (value === undefined) return 0;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

export interface SandboxDependencies {
  registry: Registry;
  agents: Pick<AgentProxyService, 'reach'>;
  control: Pick<AgentControl, 'request'>;
  isolation: AgentIsolationInspector | null;
}

/** The emulator the caller named, as an origin; refuses what is no URL or is the provider's own service. */
export function sandboxOrigin(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FleetError(
      'invalid_input',
      `--emulator must be the mail emulator's URL (got ${JSON.stringify(raw)})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FleetError('invalid_input', '--emulator must be an http(s) URL');
  if (PROVIDER_HOSTS.test(url.hostname))
    throw new FleetError('invalid_input', `${url.hostname} is the provider's own service, not a sandbox`);
  return url;
}

/**
 * A sandbox round, checked on the live agent and recorded: the agent runs in dry run (nothing is ever
 * written to a mailbox), its mail endpoint is the given emulator (read back from the runtime), it is
 * connected, at least one message went through the whole loop, and nothing was sent. A pass is recorded in
 * the ops log, so the item stays passed after the client goes live on its real mailbox. A round that could
 * not be checked (no runtime to read the endpoint from, no agent, an agent that does not answer) is
 * pending, not failed: nothing was seen to be wrong with it.
 */
export async function verifySandboxRound(
  deps: SandboxDependencies,
  clientId: ClientId,
  emulator: string,
  member: string,
): Promise<ItemOutcome> {
  const origin = sandboxOrigin(emulator);
  if (deps.isolation === null)
    return {
      status: 'pending',
      evidence: [
        'not checkable here: this runtime cannot report the agent’s mail endpoint back (Docker only), so no sandbox round can be confirmed',
      ],
    };
  const facts = await deps.isolation.inspectIsolation(clientId);
  if (facts === null)
    return {
      status: 'pending',
      evidence: [
        `no workload ${resourceNames(clientId).container} to check: provision the client, run it in dry run against the emulator, then fleet doctor ${clientId} --sandbox --emulator ${origin.origin}`,
      ],
    };
  const endpoint = facts.mailEndpoint === null ? null : new URL(facts.mailEndpoint);
  if (endpoint === null || endpoint.origin !== origin.origin) {
    return {
      status: 'fail',
      evidence: [
        `the agent works against ${endpoint?.origin ?? 'the provider’s own service'}, not the emulator at ${origin.origin}`,
      ],
    };
  }
  let status: AgentStatus;
  try {
    const { address, token } = await deps.agents.reach(clientId);
    status = await deps.control.request<AgentStatus>(clientId, address, token, 'GET', '/v1/status');
  } catch (error) {
    return outcomeOfCheckError(error, 'the agent', clientId);
  }
  const done = count(status.messages?.['done']);
  const sent = count(status.outbox?.sent);
  const problems = [
    ...(status.dryRun === true ? [] : ['the agent is not in dry run (dryRun: true in its config)']),
    ...connectionProblems(status.connection),
    ...(done !== null && done >= 1 ? [] : ['no message has gone through the whole loop yet']),
    ...(sent === 0
      ? []
      : [sent === null ? 'the agent did not say how many emails it sent' : `${sent} email(s) were sent`]),
  ];
  if (problems.length > 0) return { status: 'fail', evidence: problems };
  const recorded = await deps.registry.appendOpsLog({
    actor: member,
    action: ONBOARDING_ACTIONS.sandbox,
    clientId,
    reason: null,
    outcome: 'success',
    details: {
      emulator: origin.origin,
      messagesDone: done,
      connection: String(status.connection),
      dryRun: true,
    },
  });
  return { status: 'pass', evidence: [sandboxEvidence(recorded)] };
}

/** The connection states an agent reports while its mail loop works a mailbox: the provider's name. */
const CONNECTED = new Set(['gmail', 'outlook']);
/** How much of an unexpected connection state the evidence quotes, in characters. */
const STATE_CHARS = 40;

/**
 * Only a mailbox the agent is working counts: every other state it reports (wrong account, not
 * connected, an account not confirmed yet, anything new) is a failed round, said plainly.
 */
function connectionProblems(connection: unknown): string[] {
  if (typeof connection === 'string' && CONNECTED.has(connection)) return [];
  if (connection === 'wrong account')
    return [
      'the agent refuses the connected mailbox: the grant opens another account than its config’s mailbox:',
    ];
  const state =
    typeof connection === 'string' && connection !== ''
      ? ` (it reports ${JSON.stringify(connection.slice(0, STATE_CHARS))})`
      : '';
  return [`the agent is not connected to the emulator’s mailbox${state}`];
}

/** The evidence line of a recorded pass. */
export function sandboxEvidence(entry: Pick<OpsLogEntry, 'actor' | 'at' | 'details'>): string {
  return `dry-run round against ${String(entry.details['emulator'])} passed: ${String(entry.details['messagesDone'])} message(s) through the loop, nothing sent (recorded by ${entry.actor} at ${entry.at})`;
}

import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { IsolationFacts } from '../domain/isolation-policy.ts';

export type { IsolationFacts, MountFact, NetworkFact } from '../domain/isolation-policy.ts';

/** Reads a client's agent hardening back from where it runs. */
export interface AgentIsolationInspector {
  /** The facts of the client's agent workload; null when there is none. */
  inspectIsolation(clientId: ClientId): Promise<IsolationFacts | null>;
}

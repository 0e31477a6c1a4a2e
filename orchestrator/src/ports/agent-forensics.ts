import type { ClientId } from '@agent-fleet/kernel/client-id';

/** What incident evidence reads of a client's agent workload beyond its control API. */
export interface AgentForensics {
  /**
   * The runtime's own full description of the client's agent workload (Docker: the container inspect:
   * image, hardening, mounts, state), or null when there is none. Environment holds no secret by design.
   */
  describe(clientId: ClientId): Promise<Record<string, unknown> | null>;
  /** The last `maxLines` lines the agent wrote (stdout and stderr, oldest first, each with its time). */
  logs(clientId: ClientId, maxLines: number): Promise<string[]>;
  /** The agent's Prometheus exposition, read from its metrics address (host:port). */
  scrapeMetrics(metricsAddress: string): Promise<string>;
}

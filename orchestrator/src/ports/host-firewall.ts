import type { ClientId } from '@agent-fleet/kernel/client-id';

/** What a client's network may reach on the host running its agent (Docker). */
export interface HostFirewall {
  /**
   * From now on the client's network opens connections on the host only to what is bound to its own
   * gateway address (the orchestrator's egress proxy and Vault for it); answers to the host's own
   * connections still pass. Idempotent.
   */
  confine(clientId: ClientId, network: { gateway: string }): Promise<void>;
  /** Whether the rules `confine` writes for this network are in place now (first in INPUT, the bridge's in order). */
  confines(network: { gateway: string }): Promise<boolean>;
}

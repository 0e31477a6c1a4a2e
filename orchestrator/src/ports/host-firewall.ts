import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { HostEndpoint } from '../domain/host-input-rules.ts';

/** What a client's network may reach on the host running its agent (Docker). */
export interface HostFirewall {
  /**
   * From now on the client's network opens connections to these endpoints of the host only (the
   * orchestrator's listeners on its gateway); answers to the host's own connections still pass. Idempotent.
   */
  confine(clientId: ClientId, network: { gateway: string; endpoints: readonly HostEndpoint[] }): Promise<void>;
}

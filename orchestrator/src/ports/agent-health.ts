import type { ClientId } from '@agent-fleet/kernel/client-id';

/** Asks an agent whether it is alive, through its control port. */
export interface AgentHealthProbe {
  /** True when `/healthz` answers 200 within the probe's own short timeout, from an agent proving to be `clientId`'s. */
  isHealthy(clientId: ClientId, controlAddress: string): Promise<boolean>;
}

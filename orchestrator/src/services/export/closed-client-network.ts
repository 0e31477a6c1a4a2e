import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ContainerRuntime } from '../../ports/container-runtime.ts';
import type { Registry } from '../../ports/registry.ts';
import type { ClientSubnets } from '../client-subnets.ts';

export interface ClosedClientNetworkDependencies {
  subnets: Pick<ClientSubnets, 'allocate'>;
  runtime: Pick<ContainerRuntime, 'ensureNetwork' | 'removeNetwork'>;
  registry: Pick<Registry, 'setSubnet'>;
  /** Vault's address on the client's network (listening there from now on). */
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
}

/** A closed client's network while its volume is read; `close` removes it again. */
export interface ReopenedNetwork {
  vaultAddr: string;
  close(): Promise<void>;
}

/**
 * A deprovisioned client keeps its volume (and its Vault objects) for the retention period, but not its
 * network, which a reader of the volume needs to reach Vault. This brings the network back for one read,
 * as provisioning makes it, and `close` removes it and releases its subnet: the client stays closed.
 */
export async function reopenClosedClientNetwork(deps: ClosedClientNetworkDependencies, clientId: ClientId): Promise<ReopenedNetwork> {
  const close = async (): Promise<void> => {
    await deps.runtime.removeNetwork(clientId);
    await deps.registry.setSubnet(clientId, null);
  };
  try {
    await deps.runtime.ensureNetwork(clientId, await deps.subnets.allocate(clientId));
    return { vaultAddr: await deps.vaultAddressFor(clientId), close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

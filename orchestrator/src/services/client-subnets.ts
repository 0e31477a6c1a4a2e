import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { OrchestratorConfig } from '../config.ts';
import { allocateSubnet } from '../domain/ipv4-cidr.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import { Mutex } from './mutex.ts';

export interface ClientSubnetsDependencies {
  config: Pick<OrchestratorConfig, 'subnetPool' | 'subnetPrefix'>;
  registry: Pick<Registry, 'getClient' | 'allocatedSubnets' | 'setSubnet'>;
  runtime: Pick<ContainerRuntime, 'listSubnetsInUse'>;
}

/**
 * The subnets of client networks, for provisioning and for reading a closed client's volume. Only the
 * allocation is serialised (within this orchestrator): the registry holds a subnet (unique) before its
 * network exists, so the slow network creations can run at once.
 */
export class ClientSubnets {
  private readonly deps: ClientSubnetsDependencies;
  private readonly lock = new Mutex();

  constructor(deps: ClientSubnetsDependencies) {
    this.deps = deps;
  }

  /** The client's subnet: the one the registry holds for it, else a free one, recorded for it. */
  allocate(clientId: ClientId): Promise<string> {
    const { registry, runtime, config } = this.deps;
    return this.lock.run(async () => {
      const existing = (await registry.getClient(clientId))?.subnet;
      if (existing) return existing;
      const taken = [...(await runtime.listSubnetsInUse()), ...(await registry.allocatedSubnets())];
      const allocated = allocateSubnet(config.subnetPool, config.subnetPrefix, taken);
      await registry.setSubnet(clientId, allocated);
      return allocated;
    });
  }
}

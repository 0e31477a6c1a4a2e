import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OrchestratorConfig } from '../config.ts';
import type { ClientStatus } from '../domain/client-status.ts';
import { allocateSubnet } from '../domain/ipv4-cidr.ts';
import type { SagaStep } from '../domain/saga.ts';
import type { AgentHealthProbe } from '../ports/agent-health.ts';
import type { Clock } from '../ports/clock.ts';
import type { AgentEndpoints, ContainerRuntime, NetworkInfo } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { ScrapeTargets } from '../ports/scrape-targets.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { agentWorkloadSpec } from './agent-workload.ts';
import type { Mutex } from './mutex.ts';
import { waitForAgentHealth } from './wait-for-agent-health.ts';

/** What the provisioning saga's steps share: the request's facts, and what each step made or found. */
export interface ProvisionContext {
  clientId: ClientId;
  operationId: string;
  configYaml: string;
  provider: 'gmail' | 'outlook';
  admins: string[];
  onboardingStartedAt: string;
  agentEnvironment: Record<string, string>;
  createdRow: boolean;
  previousStatus: ClientStatus | null;
  createdVolume: boolean;
  createdNetwork: boolean;
  subnet?: string;
  vaultAddr?: string;
  endpoints?: AgentEndpoints;
}

/** The secrets side of provisioning: the client's Vault objects and the agent's secure introduction. */
export interface ProvisionSecrets {
  store: SecretStore;
  /** Makes Vault reachable from the client's network and returns the address the agent uses. */
  vaultAddressForNetwork(clientId: ClientId, network: NetworkInfo): Promise<string>;
  /** Hands the running agent a single-use wrapped token and waits until it is ready. */
  introduce(clientId: ClientId, controlAddress: string): Promise<void>;
}

/** What the steps act on (ProvisionDependencies without the logging and metrics). */
export interface ProvisionStepDependencies {
  config: Pick<OrchestratorConfig, 'agent' | 'version' | 'subnetPool' | 'subnetPrefix'>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  health: AgentHealthProbe;
  clock: Clock;
  secrets: ProvisionSecrets;
}

/**
 * The saga's steps after the registry claim, in order: secrets → volume → network → container → start →
 * health → introduce → scrape target → active. Each is idempotent and says how to undo what it did;
 * `subnetLock` serialises subnet allocation across concurrent provisions.
 */
export function provisionSteps(deps: ProvisionStepDependencies, subnetLock: Mutex): SagaStep<ProvisionContext>[] {
  const { registry, runtime, targets, health, clock, config, secrets } = deps;
  const progress = (context: ProvisionContext, step: string) =>
    registry.recordProgress(context.clientId, context.operationId, step, clock.now());
  return [
    {
      name: 'secrets',
      run: async (context) => {
        await progress(context, 'secrets');
        await secrets.store.ensureClient(context.clientId);
        await secrets.store.issueControlToken(context.clientId);
      },
      // A client that existed before keeps its secrets; a new one leaves nothing in Vault.
      compensate: async (context) => {
        if (context.createdRow) await secrets.store.removeClient(context.clientId);
      },
    },
    {
      name: 'volume',
      run: async (context) => {
        await progress(context, 'volume');
        context.createdVolume = (await runtime.ensureVolume(context.clientId)).created;
      },
      // A volume that existed before (a re-provisioned client's data) is never removed by a rollback.
      compensate: async (context) => {
        if (context.createdVolume) await runtime.removeVolume(context.clientId);
      },
    },
    {
      name: 'network',
      run: async (context) => {
        await progress(context, 'network');
        // Only the allocation is serialised; the (slow) network creation runs in parallel, safely, since
        // the registry already holds the subnet (unique) before the network exists.
        const subnet = await subnetLock.run(async () => {
          const existing = (await registry.getClient(context.clientId))?.subnet;
          if (existing) return existing;
          const taken = [...(await runtime.listSubnetsInUse()), ...(await registry.allocatedSubnets())];
          const allocated = allocateSubnet(config.subnetPool, config.subnetPrefix, taken);
          await registry.setSubnet(context.clientId, allocated);
          return allocated;
        });
        const network = await runtime.ensureNetwork(context.clientId, subnet);
        context.createdNetwork = network.created;
        context.subnet = network.subnet;
        context.vaultAddr = await secrets.vaultAddressForNetwork(context.clientId, network);
      },
      compensate: async (context) => {
        await runtime.removeNetwork(context.clientId);
        await registry.setSubnet(context.clientId, null);
      },
    },
    {
      name: 'container',
      run: async (context) => {
        await progress(context, 'container');
        await runtime.createAgent(
          agentWorkloadSpec(config, context.clientId, context.configYaml, {
            VAULT_ADDR: context.vaultAddr!,
            ...context.agentEnvironment,
          }),
        );
      },
      compensate: (context) => runtime.removeAgent(context.clientId),
    },
    {
      name: 'start',
      run: async (context) => {
        await progress(context, 'start');
        await runtime.startAgent(context.clientId);
      },
      compensate: (context) => runtime.stopAgent(context.clientId, 2),
    },
    {
      name: 'health',
      run: async (context) => {
        await progress(context, 'health');
        const state = await waitForAgentHealth(runtime, health, context.clientId, config.agent.healthTimeoutMs);
        context.endpoints = state.endpoints;
      },
    },
    {
      name: 'introduce',
      run: async (context) => {
        await progress(context, 'introduce');
        await secrets.introduce(context.clientId, context.endpoints!.control);
      },
      compensate: async (context) => {
        await secrets.store.revokeAgentTokens(context.clientId);
      },
    },
    {
      name: 'target',
      run: async (context) => {
        await progress(context, 'target');
        await targets.register({ clientId: context.clientId, address: context.endpoints!.metrics });
      },
      compensate: (context) => targets.unregister(context.clientId),
    },
    {
      name: 'active',
      run: async (context) => {
        const moved = await registry.transition(context.clientId, ['provisioning'], 'active', null, clock.now());
        if (!moved) throw new FleetError('conflict', `${context.clientId} changed state during provisioning`);
      },
    },
  ];
}

import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OrchestratorConfig } from '../config.ts';
import type { ClientStatus } from '../domain/client-status.ts';
import type { SagaEntry, SagaStep } from '../domain/saga.ts';
import type { AgentHealthProbe } from '../ports/agent-health.ts';
import type { Clock } from '../ports/clock.ts';
import type { AgentEndpoints, ContainerRuntime, NetworkInfo } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { ScrapeTargets } from '../ports/scrape-targets.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { agentWorkloadSpec } from './agent-workload.ts';
import type { ClientSubnets } from './client-subnets.ts';
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
  /** The progress writes made so far, in order; provisioning awaits them before it returns. */
  progressWrites: Promise<void>;
  /** The first progress write that failed, for the log (progress is not worth failing a provision for). */
  progressError?: unknown;
  /** The agent's introduction, minted while it starts (ProvisionSecrets.prepareIntroduction). */
  introduction?: Promise<(controlAddress: string) => Promise<void>>;
}

/** The secrets side of provisioning: the client's Vault objects and the agent's secure introduction. */
export interface ProvisionSecrets {
  store: SecretStore;
  /** Makes Vault reachable from the client's network and returns the address the agent uses. */
  vaultAddressForNetwork(clientId: ClientId, network: NetworkInfo): Promise<string>;
  /**
   * The secure introduction in two halves: mints the single-use wrapped token now (while the agent
   * starts) and resolves to the hand-over, which gives it to the running agent and waits until it is ready.
   */
  prepareIntroduction(clientId: ClientId): Promise<(controlAddress: string) => Promise<void>>;
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
 * The saga's steps after the registry claim, in order: secrets, volume and network at once → container →
 * start → health (the introduction minted meanwhile) → introduce and scrape target at once → active.
 * Each is idempotent and says how to undo what it did; `subnets` serialises subnet allocation across
 * concurrent provisions (and reads of closed clients' volumes).
 */
export function provisionSteps(deps: ProvisionStepDependencies, subnets: ClientSubnets): SagaEntry<ProvisionContext>[] {
  const { registry, runtime, targets, health, clock, config, secrets } = deps;
  // Off the critical path but in order: a progress write shows where the operation is and keeps its heartbeat.
  const progress = (context: ProvisionContext, step: string): void => {
    const at = clock.now();
    context.progressWrites = context.progressWrites
      .then(() => registry.recordProgress(context.clientId, context.operationId, step, at))
      .catch((error: unknown) => void (context.progressError ??= error));
  };
  return claimHeld(registry, [
    // Independent of one another; each compensation is safe on a half-run step, so a failure of any of
    // them (once all three have ended) undoes all three.
    {
      parallel: [
        {
          name: 'secrets',
          run: async (context) => {
            progress(context, 'secrets');
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
            progress(context, 'volume');
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
            progress(context, 'network');
            const subnet = await subnets.allocate(context.clientId);
            const network = await runtime.ensureNetwork(context.clientId, subnet);
            context.createdNetwork = network.created;
            context.subnet = network.subnet;
            context.vaultAddr = await secrets.vaultAddressForNetwork(context.clientId, network);
          },
          compensate: async (context) => {
            await runtime.removeNetwork(context.clientId);
            await registry.setSubnet(context.clientId, null, { operationId: context.operationId });
          },
        },
      ],
    },
    {
      name: 'container',
      run: async (context) => {
        progress(context, 'container');
        // A leftover agent (of a crashed, rolled-back or closed operation) may still hold a live token: this
        // container replaces or adopts it and the introduction below hands it a new one, so none minted before
        // may outlive it (the next rotation would be the first to revoke it).
        await secrets.store.revokeAgentTokens(context.clientId);
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
        progress(context, 'start');
        await runtime.startAgent(context.clientId);
      },
      compensate: (context) => runtime.stopAgent(context.clientId, 2),
    },
    {
      name: 'health',
      run: async (context) => {
        progress(context, 'health');
        context.introduction = secrets.prepareIntroduction(context.clientId);
        // Its failure is the introduce step's, reported there; meanwhile it must not go unhandled.
        context.introduction.catch(() => undefined);
        const state = await waitForAgentHealth(runtime, health, context.clientId, config.agent.healthTimeoutMs);
        context.endpoints = state.endpoints;
      },
      // An introduction minted for an agent that never became healthy is revoked with it.
      compensate: async (context) => {
        if (!context.introduction) return;
        await context.introduction.catch(() => undefined);
        await secrets.store.revokeAgentTokens(context.clientId);
      },
    },
    // The scrape target needs only the endpoints: it is listed while the agent is being introduced.
    {
      parallel: [
        {
          name: 'introduce',
          run: async (context) => {
            progress(context, 'introduce');
            const handOver = await context.introduction!;
            await handOver(context.endpoints!.control);
          },
          compensate: async (context) => {
            await secrets.store.revokeAgentTokens(context.clientId);
          },
        },
        {
          name: 'target',
          run: async (context) => {
            progress(context, 'target');
            await targets.register({ clientId: context.clientId, address: context.endpoints!.metrics });
          },
          compensate: (context) => targets.unregister(context.clientId),
        },
      ],
    },
    {
      name: 'active',
      run: async (context) => {
        // Only this operation's claim becomes active: one taken over meanwhile (a deprovision, a later
        // provision) is the other operation's to finish.
        const moved = await registry.transition(context.clientId, ['provisioning'], 'active', null, clock.now(), { operationId: context.operationId });
        if (!moved) throw new FleetError('conflict', `${context.clientId} was killed or taken over by another operation during provisioning`);
      },
    },
  ]);
}

/**
 * Each step runs only while this operation still holds the client's claim (provisioning, under its operation
 * id), and is undone only while the client is still this operation's: a provisioning that stalled past the
 * take-over age and was taken over must neither go on nor roll back what the operation that took it over
 * made under the same names (its container, network, subnet, volume and secrets). A kill keeps the operation
 * id: the steps stop, and what they made is undone as before.
 */
function claimHeld(registry: Registry, entries: SagaEntry<ProvisionContext>[]): SagaEntry<ProvisionContext>[] {
  const ownerOf = async (context: ProvisionContext) => registry.getClient(context.clientId);
  const guarded = (step: SagaStep<ProvisionContext>): SagaStep<ProvisionContext> => {
    const { compensate } = step;
    return {
      name: step.name,
      run: async (context) => {
        const record = await ownerOf(context);
        if (record?.status !== 'provisioning' || record.operationId !== context.operationId) {
          throw new FleetError('conflict', `${context.clientId} was killed or taken over by another operation during provisioning`);
        }
        await step.run(context);
      },
      ...(compensate === undefined
        ? {}
        : {
            compensate: async (context: ProvisionContext) => {
              // Unknown (the registry unreachable): undone as ever; only a client known to be another's is left alone.
              const takenOver = await ownerOf(context).then(
                (record) => record?.operationId !== context.operationId,
                () => false,
              );
              if (!takenOver) await compensate(context);
            },
          }),
    };
  };
  return entries.map((entry) => ('parallel' in entry ? { parallel: entry.parallel.map(guarded) } : guarded(entry)));
}

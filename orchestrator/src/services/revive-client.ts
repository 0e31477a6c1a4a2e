import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../config.ts';
import type { AgentControl } from '../ports/agent-control.ts';
import type { AgentHealthProbe } from '../ports/agent-health.ts';
import type { Clock } from '../ports/clock.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { ScrapeTargets } from '../ports/scrape-targets.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { agentWorkloadSpec } from './agent-workload.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';
import { checkReason } from './kill-client.ts';
import { waitForAgentHealth } from './wait-for-agent-health.ts';

export interface ReviveDependencies {
  config: Pick<OrchestratorConfig, 'agent' | 'version'>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  secrets: SecretStore;
  control: AgentControl;
  health: AgentHealthProbe;
  clock: Clock;
  logger: Logger;
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
  introduce: (clientId: ClientId, controlAddress: string) => Promise<void>;
  /**
   * Held while the agent comes back: a killed client's export unlocks its policy for a reader and locks it
   * again after, which would lock out an agent revived meanwhile; a backup, restore or erasure must not see
   * the agent start under it either.
   */
  guard: Pick<ClientOperationGuard, 'exclusive'>;
}

/** Undoes a kill: restores the policy, starts the agent with a fresh introduction, clears its kill flag. */
export class ReviveClientService {
  private readonly deps: ReviveDependencies;

  constructor(deps: ReviveDependencies) {
    this.deps = deps;
  }

  async revive(request: { clientId: unknown; reason: string; actor: string }): Promise<{ clientId: ClientId }> {
    const clientId = parseClientId(request.clientId);
    const reason = checkReason(request.reason);
    return this.deps.guard.exclusive(clientId, 'revive', () => this.reviveNow(clientId, reason, request.actor));
  }

  private async reviveNow(clientId: ClientId, reason: string, actor: string): Promise<{ clientId: ClientId }> {
    const { registry, runtime, targets, secrets, control, health, clock, config } = this.deps;
    // 'provisioning' keeps the reconciler's hands off while the agent comes back.
    if (!(await registry.transition(clientId, ['killed'], 'provisioning', 'reviving', clock.now()))) {
      throw new FleetError('conflict', `${clientId} is not killed; nothing to revive`);
    }
    try {
      await secrets.unlockClient(clientId);
      const record = await registry.getClient(clientId);
      if (!(await runtime.inspectAgent(clientId))) {
        await runtime.createAgent(
          agentWorkloadSpec(config, clientId, record!.configYaml, { VAULT_ADDR: await this.deps.vaultAddressFor(clientId) }),
        );
      }
      await runtime.removePlacedFile(clientId, KILL_FLAG_FILE);
      await runtime.startAgent(clientId);
      const state = await waitForAgentHealth(runtime, health, clientId, config.agent.healthTimeoutMs);
      const controlAddress = state.endpoints.control;
      await this.deps.introduce(clientId, controlAddress);
      const controlToken = await secrets.readControlToken(clientId);
      if (!controlToken) throw new FleetError('internal', `${clientId} has no control token`);
      await control.request(clientId, controlAddress, controlToken, 'POST', '/v1/revive', { by: actor, reason });
      await targets.register({ clientId, address: state.endpoints.metrics });
      await registry.transition(clientId, ['provisioning'], 'active', null, clock.now());
    } catch (error) {
      // Fail closed: anything short of a full revive leaves the client killed.
      await secrets.lockClient(clientId).catch(() => undefined);
      await secrets.revokeAgentTokens(clientId).catch(() => undefined);
      await runtime.stopAgent(clientId, 0).catch(() => undefined);
      await registry.setStatus(clientId, 'killed', `revive failed: ${(error as Error).message}`, clock.now());
      await registry
        .appendOpsLog({ actor, action: 'revive', clientId, reason, outcome: 'failed', details: { error: (error as Error).message } })
        .catch(() => undefined);
      throw error;
    }
    await registry.appendOpsLog({ actor, action: 'revive', clientId, reason, outcome: 'success', details: {} });
    this.deps.logger.warn('client revived', { client: clientId });
    return { clientId };
  }
}

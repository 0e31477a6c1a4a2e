import { randomUUID } from 'node:crypto';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KILL_FLAG_FILE, killFlagContent } from '@agent-fleet/kernel/kill-flag';
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
import { withOperationHeartbeat } from './operation-heartbeat.ts';
import { STALE_OPERATION_MS } from './operation-heartbeat.ts';
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
  /** How often a running revive refreshes its heartbeat, in ms. Default: a fifth of STALE_OPERATION_MS. */
  heartbeatIntervalMs?: number;
}

/**
 * Undoes a kill: revokes any agent token left, restores the policy, starts the agent with a fresh
 * introduction, clears its kill flag. A kill that lands meanwhile wins (see reviveNow).
 */
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
    const { registry, clock } = this.deps;
    // 'provisioning' keeps the reconciler's hands off while the agent comes back; the revive's own operation
    // id makes it the client's owner: a provisioning the kill interrupted (which kept its id) stops at its
    // next ownership check instead of finishing over this revive, and the fresh heartbeat keeps another
    // orchestrator's provisioning, erasure or deprovision from taking the client over as abandoned.
    const operationId = randomUUID();
    if (!(await registry.claim(clientId, operationId, { from: ['killed'], to: 'provisioning', reason: 'reviving' }, clock.now(), STALE_OPERATION_MS))) {
      // Two revives at once (two orchestrators, two CLI calls): the claim is atomic, so one wins and this one says why it lost.
      const status = (await registry.getClient(clientId).catch(() => null))?.status;
      throw new FleetError(
        'conflict',
        status === 'provisioning' ? `${clientId} is being revived (or provisioned) by another operation; check \`fleet status ${clientId}\`` : `${clientId} is not killed; nothing to revive`,
      );
    }
    return withOperationHeartbeat(this.deps, { clientId, operationId, step: 'reviving' }, () => this.bringBack(clientId, operationId, reason, actor));
  }

  private async bringBack(clientId: ClientId, operationId: string, reason: string, actor: string): Promise<{ clientId: ClientId }> {
    const { registry, runtime, targets, secrets, control, health, clock, config } = this.deps;
    // The kill switch never waits for a revive: it marks the client killed first, then locks, revokes and
    // stops. So after each step that brings the agent nearer to life, the revive checks that no kill came
    // meanwhile: a kill seen later than a step was engaged after it, and its own lock, revocation and stop
    // undo that step; a kill seen here is honoured by failing closed below.
    const stillReviving = async () => {
      const record = await registry.getClient(clientId);
      if (record?.status !== 'provisioning' || record.operationId !== operationId) {
        throw new FleetError('conflict', `${clientId} was killed or taken over by another operation while it was being revived`);
      }
    };
    try {
      // A token minted after the kill's revocation (by an introduction that raced it) is powerless only
      // while the policy is locked: none may outlive the unlock but the one this revive introduces.
      await secrets.revokeAgentTokens(clientId);
      await secrets.unlockClient(clientId);
      await stillReviving();
      const record = await registry.getClient(clientId);
      if (!(await runtime.inspectAgent(clientId))) {
        await runtime.createAgent(
          agentWorkloadSpec(config, clientId, record!.configYaml, { VAULT_ADDR: await this.deps.vaultAddressFor(clientId) }),
        );
      }
      await runtime.removePlacedFile(clientId, KILL_FLAG_FILE);
      await runtime.startAgent(clientId);
      await stillReviving();
      const state = await waitForAgentHealth(runtime, health, clientId, config.agent.healthTimeoutMs);
      const controlAddress = state.endpoints.control;
      await this.deps.introduce(clientId, controlAddress);
      await stillReviving();
      const controlToken = await secrets.readControlToken(clientId);
      if (!controlToken) throw new FleetError('internal', `${clientId} has no control token`);
      await control.request(clientId, controlAddress, controlToken, 'POST', '/v1/revive', { by: actor, reason });
      await stillReviving();
      await targets.register({ clientId, address: state.endpoints.metrics });
      if (!(await registry.transition(clientId, ['provisioning'], 'active', null, clock.now(), { operationId }))) {
        throw new FleetError('conflict', `${clientId} was killed or taken over by another operation while it was being revived`);
      }
    } catch (error) {
      await this.failClosed(clientId, operationId, reason, actor, error as Error);
      throw error;
    }
    await registry.appendOpsLog({ actor, action: 'revive', clientId, reason, outcome: 'success', details: {} });
    this.deps.logger.warn('client revived', { client: clientId });
    return { clientId };
  }

  /**
   * Anything short of a full revive leaves the client killed, as a kill leaves it: policy locked, tokens
   * revoked, agent stopped, its kill flag back in place (the revive removed it, and an agent told to
   * revive released its own), no scrape target. A kill that came meanwhile keeps its own status reason.
   * Every step runs whatever became of the one before; the ones that failed are logged and ops-logged.
   * A client another operation took over (a revive after a kill that came meanwhile) is that operation's:
   * its agent, policy and tokens are left alone (the kill in between locked, revoked and stopped).
   */
  private async failClosed(clientId: ClientId, operationId: string, reason: string, actor: string, error: Error): Promise<void> {
    const { registry, runtime, targets, secrets, clock, config, logger } = this.deps;
    // Unknown (the registry unreachable): failed closed as ever; only a client known to be another's is left alone.
    const owner = await registry.getClient(clientId).catch(() => null);
    if (owner !== null && owner.operationId !== operationId) {
      logger.warn('a revive lost the client to another operation; it leaves the client to it', { client: clientId, error });
      await registry
        .appendOpsLog({ actor, action: 'revive', clientId, reason, outcome: 'failed', details: { error: error.message, takenOverBy: owner.operationId } })
        .catch((logError: unknown) => logger.error('the failed revive could not be ops-logged', { client: clientId, error: logError }));
      return;
    }
    const flag = killFlagContent({ at: clock.now(), by: actor, reason: `revive failed: ${error.message}`.slice(0, 500) });
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['lock the policy', () => secrets.lockClient(clientId)],
      ['revoke the agent tokens', () => secrets.revokeAgentTokens(clientId)],
      ['stop the agent', () => runtime.stopAgent(clientId, 0)],
      ['place the kill flag', () => runtime.placeFiles(clientId, { [KILL_FLAG_FILE]: flag }, config.agent.user)],
      ['remove the scrape target', () => targets.unregister(clientId)],
      ['mark the client killed', () => registry.transition(clientId, ['provisioning'], 'killed', `revive failed: ${error.message}`, clock.now(), { operationId })],
    ];
    const cleanupFailures: string[] = [];
    for (const [what, step] of steps) {
      await step().catch((cleanupError: unknown) => {
        cleanupFailures.push(`${what}: ${(cleanupError as Error).message}`);
        logger.error(`a failed revive could not ${what}`, { client: clientId, error: cleanupError });
      });
    }
    await registry
      .appendOpsLog({
        actor,
        action: 'revive',
        clientId,
        reason,
        outcome: 'failed',
        details: { error: error.message, ...(cleanupFailures.length > 0 ? { cleanupFailures } : {}) },
      })
      .catch((logError: unknown) => logger.error('the failed revive could not be ops-logged', { client: clientId, error: logError }));
  }
}

import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../config.ts';
import type { AgentControl } from '../ports/agent-control.ts';
import type { Clock } from '../ports/clock.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { ScrapeTargets } from '../ports/scrape-targets.ts';
import type { SecretStore } from '../ports/secret-store.ts';

export interface KillRequest {
  clientId: unknown;
  reason: string;
  actor: string;
}

export interface KillResult {
  clientId: ClientId;
  alreadyKilled: boolean;
  revokedTokens: number;
  agentNotified: boolean;
  containerStopped: boolean;
  durationMs: number;
}

export interface KillDependencies {
  config: Pick<OrchestratorConfig, 'agent'>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  secrets: SecretStore;
  control: AgentControl;
  clock: Clock;
  logger: Logger;
}

/** How long the agent gets to hear about the kill itself; it is stopped regardless. */
const AGENT_NOTICE_TIMEOUT_MS = 200;

export function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    throw new FleetError('invalid_input', 'a reason is required (--reason "…"): it goes to the ops log');
  }
  if (reason.length > 500) throw new FleetError('invalid_input', 'the reason is limited to 500 characters');
  return reason.trim();
}

/**
 * The kill switch. In this order, each step holding even if a later one fails: the registry says killed;
 * Vault denies the client's policy and revokes its tokens; the agent is told (best effort); a kill flag is
 * written into its volume; the container is stopped at once (SIGKILL: the outbox is crash-safe). When this
 * returns, the agent's token is rejected and its process is gone.
 */
export class KillClientService {
  private readonly deps: KillDependencies;

  constructor(deps: KillDependencies) {
    this.deps = deps;
  }

  async kill(request: KillRequest): Promise<KillResult> {
    const started = performance.now();
    const clientId = parseClientId(request.clientId);
    const reason = checkReason(request.reason);
    const { registry, runtime, targets, secrets, clock, logger } = this.deps;
    const record = await registry.getClient(clientId);
    if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);

    const alreadyKilled = record.status === 'killed';
    await registry.setStatus(clientId, 'killed', reason, clock.now());
    const state = await runtime.inspectAgent(clientId);

    // Independent of each other, so at once: Vault denies and revokes; the agent hears of it (bounded);
    // the kill flag lands in its volume. Each holds even if another fails.
    const lockdown = (async () => {
      await secrets.lockClient(clientId);
      return (await secrets.revokeAgentTokens(clientId)).revoked;
    })();
    const notice = this.notifyAgent(clientId, state, reason, request.actor);
    const flag = state
      ? runtime.placeFile(
          clientId,
          'KILLED',
          `${JSON.stringify({ killed: true, at: clock.now().toISOString(), by: request.actor, reason })}\n`,
          this.deps.config.agent.user,
        )
      : Promise.resolve();
    const [lockdownResult, agentNotified, flagResult] = await Promise.allSettled([lockdown, notice, flag]);
    await runtime.stopAgent(clientId, 0);
    const [afterStop] = await Promise.all([runtime.inspectAgent(clientId), targets.unregister(clientId)]);
    if (lockdownResult.status === 'rejected') throw lockdownResult.reason;
    if (flagResult.status === 'rejected') throw flagResult.reason;
    const revoked = lockdownResult.value;
    const containerStopped = !afterStop?.running;

    const result: KillResult = {
      clientId,
      alreadyKilled,
      revokedTokens: revoked,
      agentNotified: agentNotified.status === 'fulfilled' && agentNotified.value,
      containerStopped,
      durationMs: performance.now() - started,
    };
    await registry.appendOpsLog({
      actor: request.actor,
      action: 'kill',
      clientId,
      reason,
      outcome: containerStopped ? 'success' : 'partial',
      details: { previousStatus: record.status, revokedTokens: revoked, agentNotified: result.agentNotified, containerStopped },
    });
    logger.warn('kill switch engaged', { client: clientId, revokedTokens: revoked, containerStopped });
    return result;
  }

  /** Tells a running agent first-hand (it audits the kill); bounded, and never in the way of the stop. */
  private async notifyAgent(
    clientId: ClientId,
    state: Awaited<ReturnType<ContainerRuntime['inspectAgent']>>,
    reason: string,
    by: string,
  ): Promise<boolean> {
    if (!state?.running || !state.endpoints) return false;
    const controlToken = await this.deps.secrets.readControlToken(clientId);
    if (!controlToken) return false;
    return this.deps.control
      .request(clientId, state.endpoints.control, controlToken, 'POST', '/v1/kill', { reason, by }, AGENT_NOTICE_TIMEOUT_MS)
      .then(
        () => true,
        () => false,
      );
  }
}

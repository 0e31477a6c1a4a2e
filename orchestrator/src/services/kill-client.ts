import { parseClientId, type ClientId } from '@agent-fleet/agent/domain/client-id.ts';
import { FleetError } from '@agent-fleet/agent/domain/fleet-error.ts';
import type { Logger } from '@agent-fleet/agent/observability/logger.ts';
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
const AGENT_NOTICE_TIMEOUT_MS = 300;

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
    const { registry, runtime, targets, secrets, control, clock, logger } = this.deps;
    const record = await registry.getClient(clientId);
    if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);

    const alreadyKilled = record.status === 'killed';
    await registry.setStatus(clientId, 'killed', reason, clock.now());
    await secrets.lockClient(clientId);
    const { revoked } = await secrets.revokeAgentTokens(clientId);

    const state = await runtime.inspectAgent(clientId);
    let agentNotified = false;
    if (state?.running && state.hostPorts) {
      const controlToken = await secrets.readControlToken(clientId);
      if (controlToken) {
        agentNotified = await control
          .request(`127.0.0.1:${state.hostPorts.control}`, controlToken, 'POST', '/v1/kill', { reason, by: request.actor }, AGENT_NOTICE_TIMEOUT_MS)
          .then(
            () => true,
            () => false,
          );
      }
    }
    if (state) {
      const flag = JSON.stringify({ killed: true, at: clock.now().toISOString(), by: request.actor, reason });
      await runtime.placeFile(clientId, 'KILLED', `${flag}\n`, this.deps.config.agent.user);
    }
    await runtime.stopAgent(clientId, 0);
    await targets.unregister(clientId);
    const containerStopped = !(await runtime.inspectAgent(clientId))?.running;

    const result: KillResult = {
      clientId,
      alreadyKilled,
      revokedTokens: revoked,
      agentNotified,
      containerStopped,
      durationMs: performance.now() - started,
    };
    await registry.appendOpsLog({
      actor: request.actor,
      action: 'kill',
      clientId,
      reason,
      outcome: containerStopped ? 'success' : 'partial',
      details: { previousStatus: record.status, revokedTokens: revoked, agentNotified, containerStopped },
    });
    logger.warn('kill switch engaged', { client: clientId, revokedTokens: revoked, containerStopped });
    return result;
  }
}

import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KILL_FLAG_FILE, killFlagContent } from '@agent-fleet/kernel/kill-flag';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../config.ts';
import { CLIENT_STATUSES, type ClientStatus } from '../domain/client-status.ts';
import type { AgentControl } from '../ports/agent-control.ts';
import type { Clock } from '../ports/clock.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../ports/container-runtime.ts';
import type { EgressTunnels } from '../ports/egress-tunnels.ts';
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
  /** The egress proxies (none when the runtime has none): a kill cuts the client's open tunnels at once. */
  egress?: EgressTunnels | null;
}

/**
 * How long the agent gets to hear about the kill (reading its control token included), counted from the
 * moment it can be told: it is stopped regardless. An answer means it has audited the kill and written its
 * flag; a slow agent is stopped rather than waited for.
 */
const AGENT_NOTICE_TIMEOUT_MS = 150;

/** The statuses a kill moves to killed: every one but a closed (deprovisioning, deprovisioned) or killed client's. */
const KILLABLE: readonly ClientStatus[] = CLIENT_STATUSES.filter((status) => status !== 'deprovisioning' && status !== 'deprovisioned' && status !== 'killed');

/** The outcome of `work` as a value: a step that fails never keeps the next one from running. */
async function settle<T>(work: Promise<T>): Promise<PromiseSettledResult<T>> {
  const [outcome] = await Promise.allSettled([work]);
  return outcome;
}

/** `work`'s value, or null when it fails or is not there by `deadline` (a performance.now() time). */
async function byDeadline<T>(work: Promise<T>, deadline: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([work.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    throw new FleetError('invalid_input', 'a reason is required (--reason "…"): it goes to the ops log');
  }
  if (reason.length > 500) throw new FleetError('invalid_input', 'the reason is limited to 500 characters');
  return reason.trim();
}

/**
 * The kill switch. In this order, each step holding even if a later one fails: the registry says killed;
 * then at once, Vault denies the client's policy and revokes its tokens, while the agent is told (bounded,
 * best effort: it audits the kill and writes its kill flag before it answers); as soon as it has answered
 * or its time is up, the container is stopped (SIGKILL: the outbox is crash-safe). The kill flag: on
 * Docker its place is the agent's own volume, where the agent that answered has already written it, so
 * the orchestrator writes it only for an agent that did not answer, once its process is gone (nothing can
 * remove it any more, and the engine's archive API does not hold up the SIGKILL); on Kubernetes it is the
 * orchestrator's own read-only key, placed while the agent is told, before the stop. When this returns,
 * the agent's token is rejected, its policy denies everything, its process is gone and the flag is there.
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

    // A closed client stays closed: marked killed it would fall out of the retention purge and become
    // revivable, its agent started again on an account that was closed. Its lockdown and stop still run.
    // A client killed already keeps the reason of its stop (this one's is in the ops log). Whether this kill
    // began the stop is what the move says, not the read above: of two kills at once, one made it.
    const moved = await registry.transition(clientId, KILLABLE, 'killed', reason, clock.now());
    // What the client was when this kill reached it: of two kills at once, the second finds it killed.
    const previousStatus = moved || record.status === 'killed' ? record.status : ((await registry.getClient(clientId))?.status ?? record.status);
    const alreadyKilled = !moved && previousStatus === 'killed';
    // After the registry says killed: a CONNECT decided from here on is refused, and none open goes on.
    this.deps.egress?.closeTunnels(clientId);
    // The notice is on the way to the SIGKILL, so its token is asked for first. The lockdown is not (it
    // takes less time than the stop); both of its halves at once, as neither needs the other.
    const controlToken = secrets.readControlToken(clientId).catch(() => null);
    const lockdown = Promise.allSettled([secrets.lockClient(clientId), secrets.revokeAgentTokens(clientId)]);
    const state = await settle(runtime.inspectAgent(clientId));
    const agent = state.status === 'fulfilled' ? state.value : null;
    // An engine that could not say whether the agent exists gets the flag all the same.
    const mayExist = state.status === 'rejected' || agent !== null;

    const { agentNotified, stopped, flag } = await this.stopAndFlag(clientId, mayExist, agent, controlToken, reason, request.actor);
    const unregistered = settle(targets.unregister(clientId));
    const [locked, revocation] = await lockdown;
    const steps: Array<[string, PromiseSettledResult<unknown> | null]> = [
      ['inspect the agent', state],
      ['lock the policy', locked],
      ['revoke the agent tokens', revocation],
      ['stop the agent', stopped],
      ['place the kill flag', flag],
    ];
    const failed = steps.flatMap(([step, outcome]) => (outcome?.status === 'rejected' ? [{ step, reason: outcome.reason as unknown }] : []));
    if (failed.length > 0) {
      // A kill that did not fully hold is an admin action all the same: the ops log says what failed.
      const details = { previousStatus, agentNotified, failed: failed.map(({ step, reason }) => `${step}: ${(reason as Error).message}`) };
      const [logged] = await Promise.all([
        settle(registry.appendOpsLog({ actor: request.actor, action: 'kill', clientId, reason, outcome: 'failed', details })),
        unregistered,
      ]);
      if (logged.status === 'rejected') logger.error('the failed kill could not be ops-logged', { client: clientId, error: logged.reason });
      throw failed[0]!.reason;
    }
    if (revocation.status === 'rejected') throw revocation.reason;
    const revoked = revocation.value.revoked;
    // Reached only when the stop succeeded, and the runtime's stop returns only once the engine reports
    // the process gone. Asking the engine again would not say more: on Docker it answers only after its own
    // network and mount teardown (~100 ms). The field stays in the result for the API's callers.
    const containerStopped = true;

    const result: KillResult = {
      clientId,
      alreadyKilled,
      revokedTokens: revoked,
      agentNotified,
      containerStopped,
      durationMs: performance.now() - started,
    };
    const [logged, unregister] = await Promise.all([
      settle(
        registry.appendOpsLog({
          actor: request.actor,
          action: 'kill',
          clientId,
          reason,
          outcome: 'success',
          details: { previousStatus, revokedTokens: revoked, agentNotified, containerStopped },
        }),
      ),
      unregistered,
    ]);
    if (logged.status === 'rejected') throw logged.reason;
    if (unregister.status === 'rejected') throw unregister.reason;
    logger.warn('kill switch engaged', { client: clientId, revokedTokens: revoked, containerStopped });
    return result;
  }

  /**
   * The agent is told, then stopped; the kill flag as its runtime wants it (see the class comment). Every
   * step runs whatever became of the one before; the caller decides what a failure means.
   */
  private async stopAndFlag(
    clientId: ClientId,
    mayExist: boolean,
    agent: AgentWorkloadState | null,
    controlToken: Promise<string | null>,
    reason: string,
    by: string,
  ): Promise<{ agentNotified: boolean; stopped: PromiseSettledResult<void>; flag: PromiseSettledResult<void> | null }> {
    const { runtime, clock, config } = this.deps;
    const content = killFlagContent({ at: clock.now(), by, reason });
    const placeFlag = () => settle(runtime.placeFiles(clientId, { [KILL_FLAG_FILE]: content }, config.agent.user));
    const ownFlag = runtime.kind === 'kubernetes';
    const flagBeforeStop = mayExist && ownFlag ? placeFlag() : null;
    const agentNotified = await this.notifyAgent(clientId, agent, controlToken, reason, by);
    const flagBefore = flagBeforeStop && (await flagBeforeStop);
    const stopped = await settle(runtime.stopAgent(clientId, 0));
    const flag = mayExist && !ownFlag && !agentNotified ? await placeFlag() : flagBefore;
    return { agentNotified, stopped, flag };
  }

  /**
   * Tells a running agent first-hand (it audits the kill); bounded, and never in the way of the stop. True
   * only when the agent answered: it has then written its own kill flag.
   */
  private async notifyAgent(
    clientId: ClientId,
    state: AgentWorkloadState | null,
    controlToken: Promise<string | null>,
    reason: string,
    by: string,
  ): Promise<boolean> {
    if (!state?.running || !state.endpoints) return false;
    const deadline = performance.now() + AGENT_NOTICE_TIMEOUT_MS;
    const token = await byDeadline(controlToken, deadline);
    const remainingMs = Math.floor(deadline - performance.now());
    if (!token || remainingMs <= 0) return false;
    return this.deps.control
      .request(clientId, state.endpoints.control, token, 'POST', '/v1/kill', { reason, by }, remainingMs)
      .then(
        () => true,
        () => false,
      );
  }
}

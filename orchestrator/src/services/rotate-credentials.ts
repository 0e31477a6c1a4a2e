import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ClientStatus } from '../domain/client-status.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { ClientOperationGuard } from './client-operation-guard.ts';
import { checkReason } from './kill-client.ts';

export interface RotateDependencies {
  registry: Registry;
  runtime: ContainerRuntime;
  secrets: SecretStore;
  logger: Logger;
  introduce: (clientId: ClientId, controlAddress: string) => Promise<void>;
  /** Issues the agent a new TLS certificate where it reads it after its next introduction. */
  renewTls: (clientId: ClientId) => Promise<unknown>;
  /**
   * The fleet's one-operation-per-client guard (backup, restore, erasure, revive, export): a restore or a
   * revive re-introduces the agent, a backup freezes it, and an export works under its own agent token and
   * the control token, all of which a rotation beside it would cut off. Without one, rotations are only
   * kept from overlapping each other.
   */
  guard?: Pick<ClientOperationGuard, 'exclusive'>;
  /**
   * How long a rotation waits for another operation on the client (a backup, an export) to end before it
   * is refused as busy, ms. Default 120 000: an incident's containment should not fail beside a routine
   * backup; the kill switch, which never waits, is what stops an agent at once.
   */
  guardWaitMs?: number;
}

export interface RotationResult {
  clientId: ClientId;
  /** The agent tokens live before the rotation, all revoked now (by the agent on hand-over, or here). */
  revokedTokens: number;
  dataKeyVersion: number;
}

/** What became of the agent after a failed rotation, for the ops log. */
type AgentAfterFailure = 'kept-its-token' | 'holds-new-token' | 'tokens-revoked' | 'unknown';

/** Said to the operator after a failed rotation: where the agent stands, and what to do next. */
const AFTER_FAILURE: Record<AgentAfterFailure, string> = {
  'kept-its-token': 'the agent keeps working with its current token; rotate again',
  'holds-new-token': 'the agent works with its new token, but its old ones may still be live; rotate again to revoke them',
  'tokens-revoked': 'the client is no longer active, so every agent token of it was revoked',
  unknown: 'whether the agent still holds a working token could not be checked (see the orchestrator log); rotate again, or kill the client if it must stop',
};

/** Why a client that is not active is not rotated, and what the operator can do. */
const WHY_NOT_ROTATED: Record<Exclude<ClientStatus, 'active'>, string> = {
  killed: `its agent tokens are revoked and its policy denies everything, so nothing was rotated; revive it (\`fleet revive\`) before rotating`,
  provisioning: 'it is being provisioned, which issues its credentials; nothing was rotated: rotate once it is active',
  failed: 'its provisioning failed and was rolled back, so it has no credentials to rotate; provision it again',
  deprovisioning: 'it is being removed and its agent never runs again; nothing was rotated, and nothing needs to be',
  deprovisioned: 'it was removed and its agent never runs again; nothing was rotated, and nothing needs to be',
};

/** The failure as thrown, its code and retryability kept, with where the agent stands and the next step. */
function withNextStep(error: unknown, agent: AgentAfterFailure): FleetError {
  const message = `${error instanceof Error ? error.message : String(error)}; rotation not completed: ${AFTER_FAILURE[agent]}`;
  if (error instanceof FleetError) return new FleetError(error.code, message, { retryable: error.retryable, cause: error });
  return new FleetError('internal', message, { cause: error });
}

/**
 * Credential rotation: rotate the agent's data key (old data stays decryptable: the wrapped key is
 * rewrapped to the new version), mint a new control token, issue a new TLS certificate, introduce the
 * running agent again, and only then revoke the agent tokens issued before the rotation began. Logged to
 * the ops log as a credential change with who, when and why.
 *
 * Issue first, revoke last: an agent that cannot be reached (or a step that fails) keeps the token it
 * works with, instead of being left with none; the old token only lives as long as the hand-over takes
 * (a suspected leak is contained by the kill switch, which revokes every token at once). Tokens minted for
 * a hand-over that failed are never revoked here: the agent may have unwrapped one before the failure was
 * seen, and nobody else can (the wrap is single-use and lives a minute at most). The kill switch never
 * waits for a rotation: a kill that lands meanwhile may have revoked the tokens before the rotation minted
 * its own, so a rotation that finds its client killed revokes them all again and fails. One rotation per
 * client at a time, and none beside another operation on it (waited for a bounded time, then busy).
 */
export class RotateCredentialsService {
  private readonly deps: RotateDependencies;
  private readonly guard: Pick<ClientOperationGuard, 'exclusive'>;

  constructor(deps: RotateDependencies) {
    this.deps = deps;
    this.guard = deps.guard ?? new ClientOperationGuard();
  }

  async rotate(request: { clientId: unknown; reason: string; actor: string }): Promise<RotationResult> {
    const clientId = parseClientId(request.clientId);
    const reason = checkReason(request.reason);
    const waitMs = this.deps.guardWaitMs ?? 120_000;
    return this.guard.exclusive(clientId, 'credential rotation', () => this.rotateNow(clientId, reason, request.actor), { waitMs });
  }

  private async rotateNow(clientId: ClientId, reason: string, actor: string): Promise<RotationResult> {
    const { registry, runtime, secrets } = this.deps;
    await this.requireActive(clientId);
    const state = await runtime.inspectAgent(clientId);
    if (!state?.running || !state.endpoints) {
      throw new FleetError(
        'unavailable',
        `the agent of ${clientId} is not running, so it cannot be handed new credentials; nothing was changed: rotate again once it runs (the reconciler restarts it with a fresh introduction)`,
        { retryable: true },
      );
    }
    const controlAddress = state.endpoints.control;
    let handedOver = false;
    try {
      const before = await secrets.agentTokenAccessors(clientId);
      const { version } = await secrets.rotateDataKey(clientId);
      await secrets.issueControlToken(clientId);
      // The agent reads its new certificate right after unwrapping its new token, and serves with it.
      await this.deps.renewTls(clientId);
      await this.deps.introduce(clientId, controlAddress);
      handedOver = true;
      // Seen active now: a kill after this point revokes the token just introduced.
      await this.requireActive(clientId);
      // The agent gives up its old token itself once it holds the new one: what is left is revoked here.
      const { revoked } = await secrets.revokeAgentTokenAccessors(clientId, before);
      await registry.appendOpsLog({
        actor,
        action: 'rotate-credentials',
        clientId,
        reason,
        outcome: 'success',
        details: { revokedTokens: before.length, revokedByRotation: revoked, dataKeyVersion: version },
      });
      return { clientId, revokedTokens: before.length, dataKeyVersion: version };
    } catch (error) {
      const agent = await this.afterFailure(clientId, handedOver);
      await registry
        .appendOpsLog({ actor, action: 'rotate-credentials', clientId, reason, outcome: 'failed', details: { error: (error as Error).message, agent } })
        .catch((logError: unknown) => this.deps.logger.error('the failed rotation could not be ops-logged', { client: clientId, error: logError }));
      throw withNextStep(error, agent);
    }
  }

  /**
   * After a failure: an active client's agent keeps what it holds (its old token, or the new one when the
   * hand-over went through); any other client's tokens are all revoked again (a kill may have come between
   * its own revocation and the rotation's new token). Says what became of the agent, for the ops log.
   */
  private async afterFailure(clientId: ClientId, handedOver: boolean): Promise<AgentAfterFailure> {
    const { registry, secrets, logger } = this.deps;
    try {
      if ((await registry.getClient(clientId))?.status === 'active') return handedOver ? 'holds-new-token' : 'kept-its-token';
      await secrets.revokeAgentTokens(clientId);
      return 'tokens-revoked';
    } catch (error) {
      logger.error('after a failed rotation the agent tokens could not be checked or revoked', { client: clientId, error });
      return 'unknown';
    }
  }

  private async requireActive(clientId: ClientId): Promise<void> {
    const record = await this.deps.registry.getClient(clientId);
    if (record === null) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    if (record.status !== 'active') throw new FleetError('conflict', `${clientId} is ${record.status}: ${WHY_NOT_ROTATED[record.status]}`);
  }

  /** The monthly schedule: every active client, one at a time; one failure does not stop the rest. */
  async rotateAll(actor: string, reason: string): Promise<Array<RotationResult | { clientId: string; error: string }>> {
    const results: Array<RotationResult | { clientId: string; error: string }> = [];
    for (const client of await this.deps.registry.listClients()) {
      if (client.status !== 'active') continue;
      try {
        results.push(await this.rotate({ clientId: client.id, reason, actor }));
      } catch (error) {
        this.deps.logger.error('scheduled rotation failed', { client: client.id, error });
        results.push({ clientId: client.id, error: (error as Error).message });
      }
    }
    return results;
  }
}

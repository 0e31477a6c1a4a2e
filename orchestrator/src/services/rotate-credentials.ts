import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
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
   * revive re-introduces the agent, and a rotation failing beside it would revoke the token it handed
   * over. Without one, rotations are only kept from overlapping each other.
   */
  guard?: Pick<ClientOperationGuard, 'exclusive'>;
}

export interface RotationResult {
  clientId: ClientId;
  revokedTokens: number;
  dataKeyVersion: number;
}

/**
 * Credential rotation: revoke the agent's tokens, rotate its data key (old data stays decryptable: the
 * wrapped key is rewrapped to the new version), mint a new control token, issue a new TLS certificate,
 * and introduce the running agent again. Logged to the ops log as a credential change with who, when and why.
 *
 * Once the old tokens are revoked the agent has none, so a rotation that fails after that point still
 * gives the agent a fresh introduction (while its client is active) before it reports the failure. The
 * kill switch never waits for a rotation: a kill that lands meanwhile may have revoked the tokens before
 * the rotation minted its own, so a rotation that finds its client killed revokes them again and fails.
 * One rotation per client at a time, and none beside a restore or revive of it (refused as busy).
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
    return this.guard.exclusive(clientId, 'credential rotation', () => this.rotateNow(clientId, reason, request.actor));
  }

  private async rotateNow(clientId: ClientId, reason: string, actor: string): Promise<RotationResult> {
    const { registry, runtime, secrets } = this.deps;
    await this.requireActive(clientId);
    const state = await runtime.inspectAgent(clientId);
    if (!state?.running || !state.endpoints) throw new FleetError('unavailable', `the agent of ${clientId} is not running`);
    const controlAddress = state.endpoints.control;
    let revoked: number | null = null;
    try {
      revoked = (await secrets.revokeAgentTokens(clientId)).revoked;
      const { version } = await secrets.rotateDataKey(clientId);
      await secrets.issueControlToken(clientId);
      // The agent reads its new certificate right after unwrapping its new token, and serves with it.
      await this.deps.renewTls(clientId);
      await this.deps.introduce(clientId, controlAddress);
      // Seen active now: a kill after this point revokes the token just introduced.
      await this.requireActive(clientId);
      await registry.appendOpsLog({
        actor,
        action: 'rotate-credentials',
        clientId,
        reason,
        outcome: 'success',
        details: { revokedTokens: revoked, dataKeyVersion: version },
      });
      return { clientId, revokedTokens: revoked, dataKeyVersion: version };
    } catch (error) {
      const agent = revoked === null ? 'untouched' : await this.afterFailure(clientId, controlAddress);
      await registry
        .appendOpsLog({ actor, action: 'rotate-credentials', clientId, reason, outcome: 'failed', details: { error: (error as Error).message, agent } })
        .catch((logError: unknown) => this.deps.logger.error('the failed rotation could not be ops-logged', { client: clientId, error: logError }));
      throw error;
    }
  }

  /**
   * After a failure past the revocation: an active client's agent gets a fresh introduction (it has no
   * working token otherwise); any other client's tokens are revoked again (a kill may have come between
   * its own revocation and the rotation's new token). Says what became of the agent, for the ops log.
   */
  private async afterFailure(clientId: ClientId, controlAddress: string): Promise<'reintroduced' | 'without-token' | 'tokens-revoked'> {
    const { registry, secrets, logger } = this.deps;
    try {
      if ((await registry.getClient(clientId))?.status === 'active') {
        await this.deps.introduce(clientId, controlAddress);
        if ((await registry.getClient(clientId))?.status === 'active') return 'reintroduced';
      }
      await secrets.revokeAgentTokens(clientId);
      return 'tokens-revoked';
    } catch (error) {
      logger.error('after a failed rotation the agent could not be given a working token', { client: clientId, error });
      return 'without-token';
    }
  }

  private async requireActive(clientId: ClientId): Promise<void> {
    const record = await this.deps.registry.getClient(clientId);
    if (record?.status !== 'active') {
      throw new FleetError('conflict', `${clientId} is ${record?.status ?? 'unknown'}: only an active client's credentials rotate`);
    }
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

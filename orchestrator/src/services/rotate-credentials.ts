import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import { checkReason } from './kill-client.ts';

export interface RotateDependencies {
  registry: Registry;
  runtime: ContainerRuntime;
  secrets: SecretStore;
  logger: Logger;
  introduce: (clientId: ClientId, controlAddress: string) => Promise<void>;
  /** Issues the agent a new TLS certificate where it reads it after its next introduction. */
  renewTls: (clientId: ClientId) => Promise<unknown>;
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
 */
export class RotateCredentialsService {
  private readonly deps: RotateDependencies;

  constructor(deps: RotateDependencies) {
    this.deps = deps;
  }

  async rotate(request: { clientId: unknown; reason: string; actor: string }): Promise<RotationResult> {
    const clientId = parseClientId(request.clientId);
    const reason = checkReason(request.reason);
    const { registry, runtime, secrets } = this.deps;
    const record = await registry.getClient(clientId);
    if (record?.status !== 'active') {
      throw new FleetError('conflict', `${clientId} is ${record?.status ?? 'unknown'}: only an active client's credentials rotate`);
    }
    const state = await runtime.inspectAgent(clientId);
    if (!state?.running || !state.endpoints) throw new FleetError('unavailable', `the agent of ${clientId} is not running`);
    try {
      const { revoked } = await secrets.revokeAgentTokens(clientId);
      const { version } = await secrets.rotateDataKey(clientId);
      await secrets.issueControlToken(clientId);
      // The agent reads its new certificate right after unwrapping its new token, and serves with it.
      await this.deps.renewTls(clientId);
      await this.deps.introduce(clientId, state.endpoints.control);
      await registry.appendOpsLog({
        actor: request.actor,
        action: 'rotate-credentials',
        clientId,
        reason,
        outcome: 'success',
        details: { revokedTokens: revoked, dataKeyVersion: version },
      });
      return { clientId, revokedTokens: revoked, dataKeyVersion: version };
    } catch (error) {
      await registry
        .appendOpsLog({ actor: request.actor, action: 'rotate-credentials', clientId, reason, outcome: 'failed', details: { error: (error as Error).message } })
        .catch(() => undefined);
      throw error;
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

import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AgentIntroduction, SecretMetadata, SecretStore } from '../../ports/secret-store.ts';
import { AgentTokenLedger } from './agent-token-ledger.ts';
import { ControlTokenRecord } from './control-token-record.ts';
import { clientPolicy, DENY_ALL_POLICY, TRANSIT_MOUNT, vaultNames } from './client-policy.ts';
import { vaultCalls, type VaultCalls } from './vault-calls.ts';
import type { VaultClient } from './vault-client.ts';
import { VaultMounts } from './vault-mounts.ts';

const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface VaultSecretStoreOptions {
  /** node-vault client holding the orchestrator's own token (see createVaultClient). */
  client: VaultClient;
  logger: Logger;
  /** TTL of the wrapping token handed to the agent, seconds (default 60, at most 60). */
  wrapTtlSeconds?: number;
  /** Period of the agent's token, seconds (default 3600): it expires unless renewed within this time. */
  agentTokenPeriodSeconds?: number;
}

function checkSecretName(name: string): string {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new FleetError(
      'invalid_input',
      `invalid secret name ${JSON.stringify(name.slice(0, 70))}: use 1-64 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit`,
    );
  }
  return name;
}

/**
 * SecretStore over the Vault HTTP API (HashiCorp Vault, OpenBao or the embedded store). Only node-vault's
 * raw read/write/list/delete are used: its token helpers replace the client's own token.
 */
export class VaultSecretStore implements SecretStore {
  private readonly client: VaultClient;
  private readonly logger: Logger;
  private readonly wrapTtlSeconds: number;
  private readonly periodSeconds: number;
  private readonly calls: VaultCalls;
  private readonly mounts: VaultMounts;
  private readonly ledger: AgentTokenLedger;
  private readonly controlTokens: ControlTokenRecord;

  constructor(options: VaultSecretStoreOptions) {
    this.client = options.client;
    this.logger = options.logger.child({ component: 'vault-secret-store' });
    this.wrapTtlSeconds = options.wrapTtlSeconds ?? 60;
    if (!Number.isInteger(this.wrapTtlSeconds) || this.wrapTtlSeconds < 1 || this.wrapTtlSeconds > 60) {
      throw new FleetError('invalid_input', 'wrapTtlSeconds must be an integer from 1 to 60');
    }
    this.periodSeconds = options.agentTokenPeriodSeconds ?? 3600;
    this.calls = vaultCalls(this.logger);
    this.mounts = new VaultMounts(this.client, this.calls, this.logger);
    this.ledger = new AgentTokenLedger(this.client, this.calls, this.logger);
    this.controlTokens = new ControlTokenRecord(this.client, this.calls);
  }

  async ensureClient(clientId: ClientId): Promise<void> {
    await this.mounts.ensure();
    const names = vaultNames(clientId);
    // A locked client stays locked: only unlockClient restores its policy.
    if (!(await this.isLocked(clientId))) {
      await this.calls.call('write policy', () =>
        this.client.write(`sys/policies/acl/${names.policy}`, { policy: clientPolicy(clientId) }),
      );
    }
    await this.calls.call('write token role', () =>
      this.client.write(`auth/token/roles/${names.role}`, {
        allowed_policies: [names.policy],
        orphan: true,
        renewable: true,
        token_period: `${this.periodSeconds}s`,
        token_no_default_policy: true,
        token_type: 'service',
      }),
    );
    const key = await this.calls.optional('read transit key', () =>
      this.client.read(`${TRANSIT_MOUNT}/keys/${names.transitKey}`),
    );
    if (!key)
      await this.calls.call('create transit key', () =>
        this.client.write(`${TRANSIT_MOUNT}/keys/${names.transitKey}`, { type: 'aes256-gcm96' }),
      );
    this.logger.info('vault client ensured', { client: clientId });
  }

  async issueAgentIntroduction(clientId: ClientId): Promise<AgentIntroduction> {
    const names = vaultNames(clientId);
    const response = (await this.calls.call('create wrapped agent token', () =>
      this.client.write(
        names.creationPath,
        { display_name: `agent-${clientId}`, meta: { client: clientId } },
        { headers: { 'X-Vault-Wrap-TTL': `${this.wrapTtlSeconds}s` } },
      ),
    )) as { wrap_info?: Record<string, unknown> | null; auth?: { accessor?: unknown } | null };
    const wrap = response.wrap_info;
    if (
      !wrap ||
      typeof wrap['token'] !== 'string' ||
      typeof wrap['wrapped_accessor'] !== 'string' ||
      wrap['creation_path'] !== names.creationPath
    ) {
      // An unwrapped token must not live on: revoke it before failing.
      const leaked = response.auth?.accessor;
      if (typeof leaked === 'string') await this.ledger.revoke(leaked).catch(() => undefined);
      throw new FleetError(
        'internal',
        `vault did not return a response-wrapped token for ${names.creationPath}`,
      );
    }
    const accessor = wrap['wrapped_accessor'];
    try {
      await this.ledger.record(clientId, accessor);
    } catch (error) {
      await this.ledger.revoke(accessor).catch(() => undefined);
      throw error;
    }
    this.logger.info('agent introduction issued', { client: clientId });
    return {
      wrappingToken: wrap['token'],
      ttlSeconds: Number(wrap['ttl'] ?? this.wrapTtlSeconds),
      creationPath: names.creationPath,
      tokenAccessor: accessor,
    };
  }

  async revokeAgentTokens(clientId: ClientId): Promise<{ revoked: number }> {
    return this.ledger.revokeAll(clientId);
  }

  /** The accessors of the client's agent tokens still live (a rotation's "before"). */
  async agentTokenAccessors(clientId: ClientId): Promise<string[]> {
    return this.ledger.liveAccessors(clientId);
  }

  /** Revokes the given agent tokens of the client; returns how many were still live. */
  async revokeAgentTokenAccessors(clientId: ClientId, accessors: readonly string[]): Promise<{ revoked: number }> {
    return this.ledger.revokeSome(clientId, accessors);
  }

  async writeSecret(clientId: ClientId, name: string, value: string): Promise<{ version: number }> {
    const path = `${vaultNames(clientId).dataPrefix}${checkSecretName(name)}`;
    const response = (await this.calls.call('write secret', () =>
      this.client.write(path, { data: { value } }),
    )) as { data?: { version?: number } };
    const version = response.data?.version;
    if (typeof version !== 'number')
      throw new FleetError(
        'internal',
        `Vault took the write of secret "${name}" but its answer carried no version, which a KV version 2 mount always returns: check that ${vaultNames(clientId).dataPrefix} is on a KV v2 mount (vault secrets list -detailed), then see the stored version with fleet secrets list ${clientId}`,
      );
    this.logger.info('secret written', { client: clientId, name, version });
    return { version };
  }

  private async listKeys(prefix: string): Promise<string[]> {
    const listing = (await this.calls.optional('list secrets', () => this.client.list(prefix))) as {
      data?: { keys?: unknown };
    } | null;
    const keys = listing?.data?.keys;
    return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
  }

  async listSecrets(clientId: ClientId): Promise<SecretMetadata[]> {
    const { metadataPrefix } = vaultNames(clientId);
    const result: SecretMetadata[] = [];
    for (const key of await this.listKeys(metadataPrefix)) {
      if (key.endsWith('/')) continue;
      const metadata = (await this.calls.optional('read secret metadata', () =>
        this.client.read(`${metadataPrefix}${key}`),
      )) as {
        data?: { current_version?: number; updated_time?: string };
      } | null;
      if (metadata?.data)
        result.push({
          name: key,
          version: metadata.data.current_version ?? 0,
          updatedAt: metadata.data.updated_time ?? '',
        });
    }
    return result.sort((a, b) => a.name.localeCompare(b.name));
  }

  async lockClient(clientId: ClientId): Promise<void> {
    await this.calls.call('lock client policy', () =>
      this.client.write(`sys/policies/acl/${vaultNames(clientId).policy}`, { policy: DENY_ALL_POLICY }),
    );
    this.logger.info('client policy locked', { client: clientId });
  }

  async isLocked(clientId: ClientId): Promise<boolean> {
    const existing = await this.calls.optional('read policy', () => this.client.read(`sys/policies/acl/${vaultNames(clientId).policy}`));
    return (existing as { data?: { policy?: string } } | null)?.data?.policy === DENY_ALL_POLICY;
  }

  async unlockClient(clientId: ClientId): Promise<void> {
    await this.calls.call('unlock client policy', () =>
      this.client.write(`sys/policies/acl/${vaultNames(clientId).policy}`, {
        policy: clientPolicy(clientId),
      }),
    );
    this.logger.info('client policy unlocked', { client: clientId });
  }

  async rotateDataKey(clientId: ClientId): Promise<{ version: number }> {
    const keyPath = `${TRANSIT_MOUNT}/keys/${vaultNames(clientId).transitKey}`;
    await this.calls.call('rotate data key', () => this.client.write(`${keyPath}/rotate`, {}));
    const key = (await this.calls.call('read data key', () => this.client.read(keyPath))) as {
      data?: { latest_version?: number };
    };
    const version = key.data?.latest_version;
    if (typeof version !== 'number')
      throw new FleetError(
        'internal',
        `Vault rotated the data key of ${clientId} but reading the key back gave no latest_version, which a transit key always has: check the transit mount (vault read ${keyPath}); data already sealed stays readable, as transit keeps every version until trimmed`,
      );
    this.logger.info('data key rotated', { client: clientId, version });
    return { version };
  }

  async issueControlToken(clientId: ClientId): Promise<string> {
    return this.controlTokens.issue(clientId);
  }

  async readControlToken(clientId: ClientId): Promise<string | null> {
    return this.controlTokens.current(clientId);
  }

  async removeClient(clientId: ClientId): Promise<void> {
    const names = vaultNames(clientId);
    await this.revokeAgentTokens(clientId);
    await this.calls.optional('delete control token', () => this.client.delete(names.controlTokenMetadata));
    const pending: string[] = [names.metadataPrefix];
    while (pending.length > 0) {
      const prefix = pending.pop() ?? '';
      for (const key of await this.listKeys(prefix)) {
        if (key.endsWith('/')) pending.push(`${prefix}${key}`);
        else await this.calls.optional('delete secret', () => this.client.delete(`${prefix}${key}`));
      }
    }
    await this.calls.optional('delete policy', () => this.client.delete(`sys/policies/acl/${names.policy}`));
    await this.calls.optional('delete token role', () => this.client.delete(`auth/token/roles/${names.role}`));
    const keyPath = `${TRANSIT_MOUNT}/keys/${names.transitKey}`;
    if (await this.calls.optional('read transit key', () => this.client.read(keyPath))) {
      await this.calls.call('allow data key deletion', () =>
        this.client.write(`${keyPath}/config`, { deletion_allowed: true }),
      );
      await this.calls.call('delete data key', () => this.client.delete(keyPath));
    }
    await this.calls.optional('delete accessor record', () => this.client.delete(names.accessorMetadata));
    this.logger.info('vault client removed', { client: clientId });
  }
}

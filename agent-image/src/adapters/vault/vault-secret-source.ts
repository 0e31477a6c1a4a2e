import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { SecretSource, SecretWriteOptions, VersionedSecret } from '../../ports/secret-source.ts';
import { createVaultClient, translateVaultError, vaultStatusOf, type VaultClient } from '@agent-fleet/kernel/vault-client';
import type { AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import { readStoredTlsBundle } from './agent-tls-bundle.ts';
import { loadTransitDataKey } from './transit-data-key.ts';
import { awaitNewToken, readTokenFile } from './vault-token-file.ts';

interface CommonOptions {
  clientId: ClientId;
  /** VAULT_ADDR as seen from inside the agent's container. */
  vaultAddr: string;
  /** Where the wrapped data key lives in the client's volume, e.g. /data/keys/data-key.wrapped */
  wrappedKeyFile: string;
  logger: Logger;
  timeoutMs?: number;
  /** Token file only: how often the token is checked against Vault (a kill revokes it), ms. Default 15 000. */
  tokenCheckIntervalMs?: number;
  /** Token file only: how long a refused token may wait for Vault Agent to write a new one, ms. Default 10 000. */
  tokenFileGraceMs?: number;
  /** PEM of the CA Vault's TLS certificate chains to (VAULT_CACERT); undefined trusts Node's root store. */
  caPem?: string | undefined;
  /**
   * Called once started with the TLS bundle the orchestrator stored for this agent (a renewal after a
   * credential rotation reaches the agent this way); not called when none is stored.
   */
  onTlsBundle?: (bundle: AgentTlsBundle) => void;
}

export type VaultSecretSourceOptions = CommonOptions &
  (
    | {
        /** The single-use wrapping token of the introduction (never the agent's token itself). */
        wrappingToken: string;
      }
    | {
        /**
         * Vault Agent's sink file (Kubernetes): Vault Agent authenticates, renews and rewrites the token;
         * this source reads it, re-reads it when Vault refuses the one it holds, and never revokes it.
         */
        tokenFile: string;
      }
  );

const KV_MOUNT = 'fleet';

/** A name that stays one path segment under the client's KV path. */
function checkSecretName(name: string): void {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new FleetError('invalid_input', 'invalid secret name');
}

/** The agent's SecretSource over the Vault HTTP API; the token lives only in this object's memory. */
export class VaultSecretSource implements SecretSource {
  private readonly options: VaultSecretSourceOptions;
  private readonly client: VaultClient;
  private readonly logger: Logger;
  private readonly listeners = new Set<(reason: string) => void>();
  private readonly keyName: string;
  private wrappingToken: string | null;
  private readonly tokenFile: string | null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** When the token runs out unless renewed (epoch ms), from the last lease Vault granted. */
  private tokenExpiresAt = 0;
  private key: Buffer | null = null;
  private isRevoked = false;
  /** The wrapped introduction was unwrapped: the token in `client` is this source's own. */
  private redeemed = false;
  /** start() was called once: a wrapped introduction is single use, so a second start is refused. */
  private startCalled = false;

  constructor(options: VaultSecretSourceOptions) {
    this.options = options;
    this.wrappingToken = 'wrappingToken' in options ? options.wrappingToken : null;
    this.tokenFile = 'tokenFile' in options ? options.tokenFile : null;
    this.client = createVaultClient({
      endpoint: options.vaultAddr,
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.caPem === undefined ? {} : { caPem: options.caPem }),
    });
    this.logger = options.logger.child({ component: 'vault-secret-source' });
    this.keyName = `fleet-${options.clientId}`;
  }

  /** The creation path the orchestrator's wrap must carry; anything else is a forged introduction. */
  get expectedCreationPath(): string {
    return `auth/token/create/${this.keyName}`;
  }

  get revoked(): boolean {
    return this.isRevoked;
  }

  onRevoked(listener: (reason: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Checks the wrapped introduction's creation path and unwraps it (single use), then holds and renews the
   * token; nothing else is read (no data key, no file). It is the only credential of an open route, so it
   * runs before anything that could tell an unauthenticated caller about the agent's volume or setup, and
   * its errors carry neither Vault's words nor the network's (which name Vault's address): integrity
   * (foreign creation path, no token in the wrap), conflict (already redeemed), or Vault's refusal
   * (invalid_input, forbidden, not_found; unavailable and retryable when Vault could not answer). A
   * second call once redeemed does nothing. Not for a Vault Agent token file (conflict).
   */
  async redeem(): Promise<void> {
    if (this.tokenFile !== null) throw new FleetError('conflict', 'a Vault Agent token file holds no introduction to redeem');
    if (this.redeemed) return;
    const wrappingToken = this.wrappingToken;
    if (wrappingToken === null) throw new FleetError('conflict', 'the introduction was already redeemed');
    this.wrappingToken = null;
    const lookup = (await this.redemptionCall('look up introduction', () =>
      this.client.write('sys/wrapping/lookup', { token: wrappingToken }),
    )) as {
      data?: { creation_path?: unknown };
    };
    const creationPath = lookup.data?.creation_path;
    if (creationPath !== this.expectedCreationPath) {
      throw new FleetError(
        'integrity',
        `introduction was not created by ${this.expectedCreationPath} (got ${JSON.stringify(creationPath)}); refusing to unwrap`,
      );
    }
    const unwrapped = (await this.redemptionCall('unwrap introduction', () =>
      this.client.write('sys/wrapping/unwrap', {}, { headers: { 'X-Vault-Token': wrappingToken } }),
    )) as { auth?: { client_token?: unknown; lease_duration?: unknown } | null };
    const token = unwrapped.auth?.client_token;
    if (typeof token !== 'string' || token === '')
      throw new FleetError('integrity', 'the introduction did not contain a token');
    this.client.token = token;
    this.redeemed = true;
    this.scheduleRenewal(Number(unwrapped.auth?.lease_duration ?? 0));
  }

  async start(): Promise<void> {
    if (this.tokenFile !== null) {
      await this.startFromTokenFile(this.tokenFile);
      return;
    }
    if (this.startCalled) throw new FleetError('conflict', 'the introduction was already redeemed');
    this.startCalled = true;
    await this.redeem();
    await this.loadDataKey();
    await this.offerTlsBundle();
    this.logger.info('secret source started', { client: this.options.clientId });
  }

  /** A Vault call of the redemption: its error keeps Vault's code, but its words only in the cause (see redeem). */
  private async redemptionCall<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await this.call(action, run);
    } catch (error) {
      const translated = translateVaultError(error, action);
      const status = vaultStatusOf(error instanceof FleetError ? error.cause : error);
      const message = `vault: ${action} failed${status === undefined ? '' : ` (${status})`}`;
      throw new FleetError(translated.code, message, { retryable: translated.retryable, cause: error });
    }
  }

  /**
   * Vault Agent renews the token and rewrites the file, so no renewal here; a periodic lookup notices a
   * revocation (the kill switch) as soon as the renewal timer of a wrapped introduction would.
   */
  private async startFromTokenFile(file: string): Promise<void> {
    this.client.token = await readTokenFile(file);
    await this.checkToken();
    await this.loadDataKey();
    this.renewTimer = setInterval(() => {
      this.checkToken().catch((error: unknown) => this.logger.warn('token check failed', { error }));
    }, this.options.tokenCheckIntervalMs ?? 15_000);
    this.renewTimer.unref();
    await this.offerTlsBundle();
    this.logger.info('secret source started from the Vault Agent token file', { client: this.options.clientId });
  }

  /** A failure here never fails the introduction: the agent keeps serving with the identity it has. */
  private async offerTlsBundle(): Promise<void> {
    const listener = this.options.onTlsBundle;
    if (listener === undefined) return;
    try {
      const bundle = await this.call('read the TLS bundle', () => readStoredTlsBundle(this.client, this.options.clientId));
      if (bundle !== null) listener(bundle);
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') return;
      this.logger.warn('reading the stored TLS bundle failed; keeping the current certificate', { error });
    }
  }

  private async checkToken(): Promise<void> {
    await this.call('look up token', () => this.client.read('auth/token/lookup-self'));
  }

  /**
   * True when the token file holds a different token than the one refused: Vault Agent re-authenticated.
   * Vault Agent may write the new token a moment after the old one stopped working (a rotation revokes
   * first), so the file is watched for a short grace before the refusal counts as a revocation. Calls
   * refused at once all wait for a token other than theirs: one that another call already took counts.
   */
  private async tokenFileMoved(refused: string): Promise<boolean> {
    const file = this.tokenFile;
    if (file === null) return false;
    if (this.client.token !== refused) return true;
    const next = await awaitNewToken(file, () => refused, this.options.tokenFileGraceMs ?? 10_000);
    if (next === null) return false;
    if (this.client.token === refused) this.client.token = next;
    return true;
  }

  private scheduleRenewal(ttlSeconds: number): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = null;
    if (!(ttlSeconds > 0) || this.isRevoked) return;
    this.tokenExpiresAt = Date.now() + ttlSeconds * 1000;
    // A third of the TTL leaves two more chances before expiry if one renewal fails.
    this.armRenewal(Math.max(1000, Math.floor((ttlSeconds * 1000) / 3)));
  }

  private armRenewal(delayMs: number): void {
    this.renewTimer = setTimeout(() => {
      this.renewNow().catch((error: unknown) => {
        this.logger.warn('token renewal failed', { error });
        this.retryRenewal();
      });
    }, delayMs);
    this.renewTimer.unref();
  }

  /**
   * A renewal refused for a passing reason (Vault sealed, restarting, unreachable: 503, 429, no answer) is
   * tried again while the token still lives, each time after a third of what is left of it. Stopped or
   * revoked sources (timer cleared) are not renewed again.
   */
  private retryRenewal(): void {
    if (this.isRevoked || this.renewTimer === null) return;
    const remainingMs = this.tokenExpiresAt - Date.now();
    if (remainingMs <= 0) return;
    this.armRenewal(Math.max(1000, Math.floor(remainingMs / 3)));
  }

  /** Renews the token now (also what the timer does); returns the new TTL in seconds. */
  async renewNow(): Promise<number> {
    const response = (await this.call('renew token', () =>
      this.client.write('auth/token/renew-self', {}),
    )) as { auth?: { lease_duration?: unknown } };
    const ttl = Number(response.auth?.lease_duration ?? 0);
    this.scheduleRenewal(ttl);
    return ttl;
  }

  private async loadDataKey(): Promise<void> {
    this.key = await loadTransitDataKey((action, run) => this.call(action, run), this.client, this.keyName, this.options.wrappedKeyFile);
  }

  dataKey(): Buffer {
    if (this.isRevoked) throw new FleetError('killed', 'the secret store revoked this agent');
    if (!this.key) throw new FleetError('conflict', 'secret source not started');
    return this.key;
  }

  async readSecrets(): Promise<ReadonlyMap<string, string>> {
    const prefix = `${KV_MOUNT}/metadata/${this.options.clientId}/`;
    const secrets = new Map<string, string>();
    let listing: { data?: { keys?: unknown } };
    try {
      listing = (await this.call('list secrets', () => this.client.list(prefix))) as typeof listing;
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') return secrets;
      throw error;
    }
    const keys = Array.isArray(listing.data?.keys) ? (listing.data.keys as unknown[]) : [];
    for (const key of keys) {
      if (typeof key !== 'string' || key.endsWith('/')) continue;
      const secret = (await this.call('read secret', () =>
        this.client.read(`${KV_MOUNT}/data/${this.options.clientId}/${key}`),
      )) as {
        data?: { data?: { value?: unknown } };
      };
      const value = secret.data?.data?.value;
      if (typeof value === 'string') secrets.set(key, value);
    }
    return secrets;
  }

  async readSecretData(name: string): Promise<Readonly<Record<string, string>> | null> {
    const secret = await this.readKv(name);
    const data = secret?.data?.data;
    if (data === null || typeof data !== 'object') return null;
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(data)) if (typeof value === 'string') fields[key] = value;
    return fields;
  }

  async readSecretVersion(name: string): Promise<VersionedSecret | null> {
    const secret = await this.readKv(name);
    const value = (secret?.data?.data as { value?: unknown } | null | undefined)?.value;
    const version = secret?.data?.metadata?.version;
    if (typeof value !== 'string' || typeof version !== 'number' || !Number.isInteger(version)) return null;
    return { value, version };
  }

  /** One KV v2 secret of the client as Vault answers it (its data and metadata); null when there is none. */
  private async readKv(name: string): Promise<{ data?: { data?: unknown; metadata?: { version?: unknown } } } | null> {
    checkSecretName(name);
    try {
      return (await this.call('read secret', () => this.client.read(`${KV_MOUNT}/data/${this.options.clientId}/${name}`))) as {
        data?: { data?: unknown; metadata?: { version?: unknown } };
      };
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') return null;
      throw error;
    }
  }

  async writeSecret(name: string, value: string, options: SecretWriteOptions = {}): Promise<void> {
    checkSecretName(name);
    const cas = options.cas;
    const body = cas === undefined ? { data: { value } } : { data: { value }, options: { cas } };
    try {
      await this.call('write secret', () => this.client.write(`${KV_MOUNT}/data/${this.options.clientId}/${name}`, body));
    } catch (error) {
      // Vault answers a check-and-set mismatch with 400 "check-and-set parameter did not match the current version".
      if (cas !== undefined && error instanceof FleetError && error.code === 'invalid_input' && /check-and-set/i.test(error.message)) {
        throw new FleetError('conflict', `secret "${name}" changed since version ${cas} was read; not overwritten`, { cause: error });
      }
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = null;
    // A Vault Agent token belongs to Vault Agent: revoking it would only make it re-authenticate.
    if (!this.isRevoked && this.client.token && this.tokenFile === null)
      await this.client.write('auth/token/revoke-self', {}).catch(() => undefined);
    this.forget();
  }

  private forget(): void {
    this.client.token = '';
    this.key?.fill(0);
    this.key = null;
  }

  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    if (this.isRevoked) throw new FleetError('killed', `${action}: the secret store revoked this agent`);
    const used = this.client.token;
    try {
      return await run();
    } catch (error) {
      if (vaultStatusOf(error) === 403 && (await this.tokenFileMoved(used))) return this.call(action, run);
      if (vaultStatusOf(error) === 403 && this.client.token)
        this.markRevoked(`secret store answered 403 to ${action}`);
      if (this.isRevoked)
        throw new FleetError('killed', `${action}: the secret store revoked this agent`, { cause: error });
      throw translateVaultError(error, action);
    }
  }

  private markRevoked(reason: string): void {
    if (this.isRevoked) return;
    this.isRevoked = true;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = null;
    this.forget();
    this.logger.error('agent token rejected by the secret store; stopping', {
      client: this.options.clientId,
      reason,
    });
    for (const listener of this.listeners) listener(reason);
  }
}

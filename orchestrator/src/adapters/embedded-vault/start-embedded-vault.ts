import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { systemClock, type Clock } from '../../ports/clock.ts';
import { EncryptedFileStore, loadOrCreateMasterKey } from './encrypted-file-store.ts';
import { groupCommit } from './group-commit.ts';
import { createHttpHandler } from './http-handler.ts';
import { RequestLog } from './request-log.ts';
import { createTlsListener, type ServerCertificateSource, type TlsListener } from './tls-listener.ts';
import { TokenStore } from './token-store.ts';
import { VaultCore } from './vault-core.ts';
import { emptyState, withDictionaries, type VaultState } from './vault-state.ts';

export interface EmbeddedVaultOptions {
  /** Directory for the master key (0600) and the encrypted store; created 0700 if missing. */
  dataDir: string;
  /** Addresses to serve on: loopback, plus the agent networks' gateways. Port 0 picks a free port. */
  listen: { host: string; port: number }[];
  logger: Logger;
  clock?: Clock;
  /**
   * The fleet CA: every listener serves TLS 1.3 only, with a certificate naming its address (renewed
   * before it runs out). There is no plain-HTTP listener.
   */
  certificates: ServerCertificateSource;
}

export interface EmbeddedVault {
  /** Base URL of the first listener, e.g. https://127.0.0.1:8200 (what VAULT_ADDR would be). */
  url: string;
  /** The CA certificate (PEM) clients verify the store's TLS against (VAULT_CACERT). */
  caCertificatePem: string;
  /** The root token, stable across restarts. Hand it only to the orchestrator's VaultSecretStore. */
  rootToken: string;
  /** Serves on one more address (e.g. a new client network's gateway); returns its URL. */
  addListener(host: string, port: number): Promise<string>;
  requestLog: RequestLog;
  close(): Promise<void>;
}

function isVaultState(value: unknown): value is VaultState {
  const state = value as Partial<VaultState> | null;
  return (
    state !== null &&
    typeof state === 'object' &&
    state.formatVersion === 1 &&
    typeof state.rootToken === 'string' &&
    typeof state.tokens === 'object'
  );
}

/** A new store's state: empty but for its root token (orphan, no expiry, the `root` policy). */
export function initialVaultState(now: number): VaultState {
  const state = emptyState('');
  const { token } = new TokenStore(state).create(
    {
      policies: ['root'],
      creationTtl: 0,
      expiresAt: null,
      period: null,
      explicitMaxTtl: 0,
      renewable: false,
      orphan: true,
      parentAccessor: null,
      displayName: 'root',
      meta: {},
      numUses: 0,
      path: 'auth/token/root',
      role: null,
    },
    now,
  );
  state.rootToken = token;
  return state;
}

async function loadState(store: EncryptedFileStore, now: number): Promise<VaultState> {
  const loaded = await store.load();
  if (loaded !== null) {
    if (!isVaultState(loaded))
      throw new FleetError('integrity', 'embedded vault store has an unknown format');
    return withDictionaries(loaded);
  }
  const state = initialVaultState(now);
  await store.save(state);
  return state;
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

const urlOf = (server: Server, host: string): string => {
  const { port } = server.address() as AddressInfo;
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
};

/** How often the listeners' certificates are checked for renewal. */
const RENEWAL_CHECK_MS = 12 * 3_600_000;
/** How often expired tokens and wraps are removed when no request came to do it. */
const EXPIRY_SWEEP_MS = 60_000;

/** Starts the embedded Vault-API server (TLS 1.3 only) backed by the AES-256-GCM encrypted file store. */
export async function startEmbeddedVault(options: EmbeddedVaultOptions): Promise<EmbeddedVault> {
  if (options.listen.length === 0)
    throw new FleetError('invalid_input', 'embedded vault needs at least one listen address');
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ component: 'embedded-vault' });
  const key = await loadOrCreateMasterKey(options.dataDir);
  const store = new EncryptedFileStore(options.dataDir, key);
  const state = await loadState(store, clock.now().getTime());
  const core = new VaultCore(state);
  if (core.purgeExpired(clock.now().getTime())) await store.save(state);
  const requestLog = new RequestLog();

  // Writes are answered once saved; saves run one at a time and writes made meanwhile share the next one.
  const saves = groupCommit(() => store.save(state));
  const handler = createHttpHandler({ core, clock, requestLog, logger, persist: () => saves.commit() });
  const servers: Server[] = [];
  const listeners: TlsListener[] = [];

  const addListener = async (host: string, port: number): Promise<string> => {
    // Reachable only from loopback and the agent networks' gateways, never from every interface.
    if (WILDCARD_HOSTS.has(host)) {
      throw new FleetError(
        'invalid_input',
        `embedded vault refuses to listen on ${host}: give loopback or a gateway address`,
      );
    }
    // Certificates are dated by the wall clock clients check them against (the store's clock may be a test's).
    const listener = await createTlsListener(handler, host, options.certificates, systemClock.now());
    const server = listener.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    servers.push(server);
    listeners.push(listener);
    const url = urlOf(server, host);
    logger.info('embedded vault listening', { url });
    return url;
  };

  // Between requests too, an expired wrap (a token, a private key) leaves the state and the disk.
  const expiry = setInterval(() => {
    if (core.purgeExpired(clock.now().getTime()))
      saves.commit().catch((error: unknown) => logger.error('embedded vault save after expiry failed', { error }));
  }, EXPIRY_SWEEP_MS);
  expiry.unref();

  const renewal = setInterval(() => {
    for (const listener of listeners) {
      listener.renewIfDue(systemClock.now()).then(
        (renewed) => renewed && logger.info('embedded vault certificate renewed', { address: listener.server.address() }),
        (error: unknown) => logger.error('embedded vault certificate renewal failed', { error }),
      );
    }
  }, RENEWAL_CHECK_MS);
  renewal.unref();

  try {
    const urls: string[] = [];
    for (const address of options.listen) urls.push(await addListener(address.host, address.port));
    return {
      url: urls[0] ?? '',
      caCertificatePem: options.certificates.certificatePem,
      rootToken: state.rootToken,
      addListener,
      requestLog,
      close: async () => {
        clearInterval(renewal);
        clearInterval(expiry);
        await Promise.all(
          servers.map(
            (server) =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
              }),
          ),
        );
        await saves.idle();
      },
    };
  } catch (error) {
    clearInterval(renewal);
    clearInterval(expiry);
    for (const server of servers) server.close();
    throw error;
  }
}

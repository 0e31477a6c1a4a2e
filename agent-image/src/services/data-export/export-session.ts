import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularFile } from '@agent-fleet/kernel/atomic-file';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { SecretSource } from '../../ports/secret-source.ts';
import { KeyRing } from '../audit-log/key-ring.ts';
import type { IntroduceInput } from '../runtime/control-api.ts';
import { ControlTokenAuth } from '../runtime/control-auth.ts';
import { runtimePaths } from '../runtime/runtime-paths.ts';
import { VolumeReader } from './volume-reader.ts';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';

/** A secret source whose introduction can be redeemed on its own, before anything else is read. */
export interface RedeemableSecretSource extends SecretSource {
  /** Checks and redeems the wrapped introduction only; `start` then completes it (the data key). */
  redeem(): Promise<void>;
}

/** Builds the secret source of one session (VaultSecretSource in the agent). */
export type ExportSecretSourceFactory = (input: { vaultAddr: string; wrappingToken: string; wrappedKeyFile: string }) => RedeemableSecretSource;

export interface DataExportSessionsOptions {
  clientId: string;
  /** The client's volume (read only here; it may be mounted read-only). */
  dataDir: string;
  /** Where the session keeps its copy of the wrapped data key (a private temp directory is made in it). */
  tmpDir: string;
  /** VAULT_ADDR of the process, used when an introduction names none. */
  vaultAddr?: string | undefined;
  secretSource: ExportSecretSourceFactory;
  logger: Logger;
  /**
   * A session nobody used for this long is closed and its Vault token revoked. Default 10 minutes. A part
   * still streaming counts as use: a slow download of a large part is not cut off.
   */
  idleMs?: number;
}

interface Session {
  source: SecretSource;
  auth: ControlTokenAuth;
  reader: VolumeReader;
  keyDir: string;
  timer: NodeJS.Timeout | null;
  /** Part streams reading through the session now: it is not idle while one runs. */
  streams: number;
  /** Aborted when the session closes, so a stream still running stops using the forgotten key. */
  closing: AbortController;
}

/** One part stream's hold on the session: `release` once the stream is done, whatever its outcome. */
export interface ExportLease {
  reader: VolumeReader;
  /** Aborted when the session closes (a close request, a new session, the idle timeout). */
  signal: AbortSignal;
  release(): void;
}

/** A transit ciphertext of a 32-byte key is about a hundred bytes (the agent's own reader: wrapped-key-file.ts). */
const MAX_WRAPPED_KEY_BYTES = 16 * 1024;

/**
 * The volume's wrapped data key, read as a regular file of bounded size: the volume is untrusted, and a
 * plain copy would follow a planted link, hang on a FIFO (with every later session open queued behind it)
 * or fill the temp directory from a huge file. Such a file is FleetError('integrity').
 */
async function readWrappedKeyOfVolume(dataDir: string): Promise<Buffer> {
  const wrapped = await readRegularFile(runtimePaths(dataDir).wrappedKey, { maxBytes: MAX_WRAPPED_KEY_BYTES });
  if (wrapped === null) throw new FleetError('not_found', 'the volume holds no data key: the agent never opened it');
  return wrapped;
}

/**
 * Read-only access to the client's volume for the complete export, opened by its own introduction: the
 * orchestrator hands over a fresh single-use wrapped token (as for the agent itself), the session unwraps
 * it, decrypts the data key and checks the control token on every read. It never starts the agent's work
 * and never writes to the volume, so it serves both a running agent and a one-shot reader container on a
 * read-only mount (the export of a stopped or killed client). One session at a time; a new one replaces it.
 */
export class DataExportSessions {
  private readonly options: DataExportSessionsOptions;
  private session: Session | null = null;
  private readonly queue = new SerialQueue();

  constructor(options: DataExportSessionsOptions) {
    this.options = options;
  }

  get expectedCreationPath(): string {
    return `auth/token/create/fleet-${this.options.clientId}`;
  }

  /**
   * Redeems an introduction for a new session, which then replaces the open one (if any). Until the new one
   * is redeemed the open one stays: the route is open (the wrap is the credential), so a forged or stale
   * introduction must not end an export in progress. The wrap is redeemed first, before the volume is read
   * or anything is written, and outside the queue of opens: a caller without a genuine wrap learns nothing
   * of the volume (whether it holds a data key, what lies where it should) and cannot hold up a genuine
   * open with slow forged ones. Errors: forbidden (foreign creation path), invalid_input (no Vault
   * address), the redemption's (see RedeemableSecretSource); once redeemed, not_found (no data key),
   * integrity (no regular key file) and the secret store's.
   */
  async open(input: IntroduceInput): Promise<void> {
    if (input.creationPath !== this.expectedCreationPath) {
      throw new FleetError('forbidden', `an export session must be introduced from ${this.expectedCreationPath}`);
    }
    const vaultAddr = input.vaultAddr ?? this.options.vaultAddr;
    if (vaultAddr === undefined) throw new FleetError('invalid_input', 'no Vault address: set VAULT_ADDR or send vaultAddr');
    // The session's own copy of the key: the secret source may rewrap it, and the volume may be read-only.
    // The directory is made only once the wrap is redeemed; mkdir (not recursive) refuses one already there.
    const keyDir = join(this.options.tmpDir, `data-export-${randomUUID()}`);
    const source = this.options.secretSource({ vaultAddr, wrappingToken: input.wrappingToken, wrappedKeyFile: join(keyDir, 'data-key.wrapped') });
    try {
      await source.redeem();
    } catch (error) {
      await this.discard(source, keyDir);
      throw error;
    }
    await this.queue.run(async () => {
      let opened: Session;
      try {
        opened = await this.startSession(source, keyDir);
      } catch (error) {
        await this.discard(source, keyDir);
        throw error;
      }
      await this.closeNow();
      this.session = opened;
      this.touch();
      this.options.logger.info('data export session opened');
    });
  }

  /** Completes a redeemed introduction: the key copied from the volume, the data key and control token read. */
  private async startSession(source: RedeemableSecretSource, keyDir: string): Promise<Session> {
    await mkdir(keyDir, { mode: 0o700 });
    await writeFile(join(keyDir, 'data-key.wrapped'), await readWrappedKeyOfVolume(this.options.dataDir), { mode: 0o600, flag: 'wx' });
    await source.start();
    const auth = new ControlTokenAuth({ source: () => source, revoked: () => source.revoked, logger: this.options.logger });
    await auth.refresh();
    return { source, auth, reader: new VolumeReader(this.options.dataDir, KeyRing.single(source.dataKey())), keyDir, timer: null, streams: 0, closing: new AbortController() };
  }

  /** Forgets a source that did not become the session: its token (if redeemed) revoked, its key copy gone. */
  private async discard(source: SecretSource, keyDir: string): Promise<void> {
    await source.stop().catch((error: unknown) => this.options.logger.warn('stopping a refused export session failed', { error }));
    await rm(keyDir, { recursive: true, force: true });
  }

  /** Checks the control token against the session's; unavailable without a session. */
  async authenticate(bearer: string | null): Promise<void> {
    const session = this.session;
    if (session === null) throw new FleetError('unavailable', 'no data export session: introduce one first');
    await session.auth.authenticate(bearer);
    this.touch();
  }

  /** The volume reader of the open session, held for one part stream until `release`. */
  lease(): ExportLease {
    const session = this.session;
    if (session === null) throw new FleetError('unavailable', 'no data export session: introduce one first');
    session.streams += 1;
    this.touch();
    let released = false;
    return {
      reader: session.reader,
      signal: session.closing.signal,
      release: () => {
        if (released) return;
        released = true;
        session.streams -= 1;
        if (this.session === session) this.touch();
      },
    };
  }

  /** Ends the session: its Vault token is revoked and its key forgotten. */
  close(): Promise<void> {
    return this.queue.run(() => this.closeNow());
  }

  private async closeNow(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session === null) return;
    if (session.timer !== null) clearTimeout(session.timer);
    session.closing.abort(new FleetError('unavailable', 'the data export session was closed'));
    await session.source.stop().catch((error: unknown) => this.options.logger.warn('stopping the export session failed', { error }));
    await rm(session.keyDir, { recursive: true, force: true });
    this.options.logger.info('data export session closed');
  }

  private touch(): void {
    const session = this.session;
    if (session === null) return;
    if (session.timer !== null) clearTimeout(session.timer);
    session.timer = null;
    if (session.streams > 0) return;
    session.timer = setTimeout(() => {
      this.close().catch((error: unknown) => this.options.logger.warn('closing an idle export session failed', { error }));
    }, this.options.idleMs ?? 600_000);
    session.timer.unref();
  }

}

import { randomBytes } from 'node:crypto';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import { decryptChunks, encryptChunks } from './backup-cipher.ts';
import {
  BACKUP_PREFIX_BYTES,
  checkHeaderIdentity,
  checkHeaderTag,
  DATA_KEY_BYTES,
  decodeBackupHeader,
  decodeBackupPrefix,
  DEFAULT_CHUNK_BYTES,
  encodeBackupFront,
  NONCE_PREFIX_BYTES,
  TAG_BYTES,
  type BackupHeader,
} from './backup-envelope.ts';
import { ByteReader } from './byte-reader.ts';

export interface SealOptions {
  clientId: ClientId;
  backupId: string;
  createdAt: Date;
  /** What the plaintext is, e.g. `application/x-tar` for a volume snapshot. */
  contentType: string;
  keys: KeyWrapper;
  chunkBytes?: number;
}

/**
 * Envelope-encrypts a plaintext stream: a fresh random data key per backup, wrapped under the client's
 * key through the KeyWrapper, then the content in authenticated chunks. Nothing is yielded until the
 * data key is wrapped, so a client without a key produces no file at all.
 */
export async function* sealBackup(
  plaintext: AsyncIterable<Uint8Array | string>,
  options: SealOptions,
): AsyncGenerator<Buffer> {
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const noncePrefix = randomBytes(NONCE_PREFIX_BYTES);
    const header: BackupHeader = {
      format: 'agent-fleet-backup',
      version: 1,
      clientId: options.clientId,
      backupId: options.backupId,
      createdAt: options.createdAt.toISOString(),
      cipher: 'aes-256-gcm-chunked',
      chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      noncePrefix: noncePrefix.toString('base64'),
      wrappedKey: await options.keys.wrapKey(options.clientId, dataKey),
      contentType: options.contentType,
    };
    const front = encodeBackupFront(header, dataKey);
    yield front;
    const bound = front.subarray(0, front.length - TAG_BYTES);
    yield* encryptChunks(plaintext, { dataKey, noncePrefix, chunkBytes: header.chunkBytes, bound });
  } finally {
    dataKey.fill(0);
  }
}

export interface OpenedBackup {
  /** The authenticated header. */
  header: BackupHeader;
  /**
   * The plaintext, each chunk authenticated before it is yielded. It throws `integrity` on a corrupt,
   * reordered or truncated body, possibly only at its very end: consume it into a staging place.
   */
  plaintext: AsyncGenerator<Buffer>;
  /** Releases the source without reading further (when the caller gives up early). */
  close(): Promise<void>;
}

/**
 * Opens a backup for `clientId`, refusing it before any content is read when it is not a backup, belongs
 * to another client (or is not `backupId`), was wrapped under another key (or the key was destroyed), or
 * its header was altered.
 */
export async function openBackup(
  source: AsyncIterable<Uint8Array>,
  expect: { clientId: ClientId; backupId?: string },
  keys: KeyWrapper,
): Promise<OpenedBackup> {
  const reader = new ByteReader(source);
  let dataKey: Buffer | null = null;
  try {
    const prefix = await reader.read(BACKUP_PREFIX_BYTES);
    const json = await reader.read(decodeBackupPrefix(prefix));
    const tag = await reader.read(TAG_BYTES);
    if (tag.length < TAG_BYTES) throw new FleetError('integrity', 'backup is truncated inside its header');
    const encoded = decodeBackupHeader(prefix, json);
    checkHeaderIdentity(encoded.header, expect.clientId, expect.backupId);
    dataKey = await unwrap(keys, expect.clientId, encoded.header);
    checkHeaderTag(encoded, dataKey, tag);
    const key = dataKey;
    const params = {
      dataKey: key,
      noncePrefix: Buffer.from(encoded.header.noncePrefix, 'base64'),
      chunkBytes: encoded.header.chunkBytes,
      bound: encoded.bound,
      backupId: encoded.header.backupId,
    };
    async function* plaintext(): AsyncGenerator<Buffer> {
      try {
        yield* decryptChunks(reader.rest(), params);
      } finally {
        key.fill(0);
        await reader.close();
      }
    }
    const close = async (): Promise<void> => {
      key.fill(0);
      await reader.close();
    };
    return { header: encoded.header, plaintext: plaintext(), close };
  } catch (error) {
    dataKey?.fill(0);
    await reader.close();
    throw error;
  }
}

async function unwrap(keys: KeyWrapper, clientId: ClientId, header: BackupHeader): Promise<Buffer> {
  let dataKey: Buffer;
  try {
    dataKey = await keys.unwrapKey(clientId, header.wrappedKey);
  } catch (error) {
    if (isFleetError(error) && error.code === 'integrity') {
      throw new FleetError(
        'integrity',
        `backup ${header.backupId}: its data key cannot be unwrapped with client ${clientId}'s key (another key, or the key was destroyed): refused`,
        { cause: error },
      );
    }
    throw error;
  }
  if (dataKey.length !== DATA_KEY_BYTES)
    throw new FleetError('integrity', `backup ${header.backupId}: the unwrapped data key has the wrong size`);
  return dataKey;
}

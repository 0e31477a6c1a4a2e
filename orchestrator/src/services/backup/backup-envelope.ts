import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { canonicalJson } from '@agent-fleet/kernel/canonical-json';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import * as z from 'zod';

/**
 * The clear-text front of an encrypted backup:
 *
 *   "AFBK" | version (1 byte) | header length (u32 BE) | header (canonical JSON) | header tag (16 bytes)
 *
 * The header names the client and the backup and carries the wrapped data key. The header tag is an
 * AES-256-GCM tag under the data key over everything before it, so once the data key is unwrapped with
 * the expected client's key, an edited header (another client's id, another backup's wrapped key) is
 * refused before a single content byte is read. Pure apart from node:crypto.
 */

export const BACKUP_MAGIC = Buffer.from('AFBK');
export const BACKUP_FORMAT_VERSION = 1;
export const BACKUP_PREFIX_BYTES = BACKUP_MAGIC.length + 1 + 4;
export const MAX_HEADER_BYTES = 64 * 1024;
export const TAG_BYTES = 16;
export const NONCE_PREFIX_BYTES = 7;
export const DATA_KEY_BYTES = 32;
/** Plaintext bytes per authenticated chunk (the last chunk may be shorter, or empty). */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;

const headerSchema = z
  .object({
    format: z.literal('agent-fleet-backup'),
    version: z.literal(BACKUP_FORMAT_VERSION),
    clientId: z.string().min(1).max(64),
    backupId: z.string().min(1).max(64),
    createdAt: z.iso.datetime(),
    cipher: z.literal('aes-256-gcm-chunked'),
    chunkBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024),
    noncePrefix: z.string().regex(/^[A-Za-z0-9+/]{10}==$/),
    wrappedKey: z.string().min(1).max(4096),
    contentType: z.string().min(1).max(100),
  })
  .strict();

export type BackupHeader = z.infer<typeof headerSchema>;

export interface EncodedHeader {
  header: BackupHeader;
  /** Magic, version, length and header JSON: the bytes the header tag and every chunk are bound to. */
  bound: Buffer;
}

/** The first bytes of a backup (magic, version, header, header tag) for a header and its data key. */
export function encodeBackupFront(header: BackupHeader, dataKey: Buffer): Buffer {
  const json = Buffer.from(canonicalJson(headerSchema.parse(header)), 'utf8');
  if (json.length > MAX_HEADER_BYTES) throw new FleetError('invalid_input', 'backup header is too large');
  const prefix = Buffer.alloc(BACKUP_PREFIX_BYTES);
  BACKUP_MAGIC.copy(prefix, 0);
  prefix.writeUInt8(BACKUP_FORMAT_VERSION, BACKUP_MAGIC.length);
  prefix.writeUInt32BE(json.length, BACKUP_MAGIC.length + 1);
  const bound = Buffer.concat([prefix, json]);
  return Buffer.concat([bound, headerTag(header, dataKey, bound)]);
}

/** Reads the fixed prefix; returns the header length to read next. Throws `integrity` on a foreign file. */
export function decodeBackupPrefix(prefix: Buffer): number {
  if (prefix.length < BACKUP_PREFIX_BYTES || !prefix.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC))
    throw new FleetError('integrity', 'not an agent-fleet backup (bad magic or truncated before the header)');
  const version = prefix.readUInt8(BACKUP_MAGIC.length);
  if (version !== BACKUP_FORMAT_VERSION)
    throw new FleetError('integrity', `unsupported backup format version ${version}`);
  const length = prefix.readUInt32BE(BACKUP_MAGIC.length + 1);
  if (length === 0 || length > MAX_HEADER_BYTES)
    throw new FleetError('integrity', `backup header length ${length} is out of range`);
  return length;
}

/** Parses the header JSON (not yet authenticated: check it with `checkHeaderTag` before trusting it). */
export function decodeBackupHeader(prefix: Buffer, json: Buffer): EncodedHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new FleetError('integrity', 'backup header is not JSON (corrupt or truncated)', { cause: error });
  }
  const result = headerSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new FleetError(
      'integrity',
      `backup header is invalid: ${issue ? `${issue.path.join('.') || 'header'}: ${issue.message}` : 'unknown'}`,
    );
  }
  return { header: result.data, bound: Buffer.concat([prefix, json]) };
}

/** Refuses a backup that belongs to another client or is not the backup asked for. */
export function checkHeaderIdentity(header: BackupHeader, clientId: ClientId, backupId?: string): void {
  if (header.clientId !== clientId)
    throw new FleetError(
      'integrity',
      `backup ${header.backupId} belongs to client ${header.clientId}, not ${clientId}: refused`,
    );
  if (backupId !== undefined && header.backupId !== backupId)
    throw new FleetError('integrity', `the file holds backup ${header.backupId}, not ${backupId}: refused`);
}

/** Nonce of chunk `index`: prefix (7) | index (u32 BE) | final flag; the header tag uses index 2^32-1. */
export function chunkNonce(noncePrefix: Buffer, index: number, flag: 0 | 1 | 2): Buffer {
  const nonce = Buffer.alloc(12);
  noncePrefix.copy(nonce, 0, 0, NONCE_PREFIX_BYTES);
  nonce.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  nonce.writeUInt8(flag, NONCE_PREFIX_BYTES + 4);
  return nonce;
}

export const HEADER_TAG_INDEX = 0xffff_ffff;

function headerTag(header: BackupHeader, dataKey: Buffer, bound: Buffer): Buffer {
  const cipher = createCipheriv(
    'aes-256-gcm',
    dataKey,
    chunkNonce(Buffer.from(header.noncePrefix, 'base64'), HEADER_TAG_INDEX, 2),
  );
  cipher.setAAD(bound);
  cipher.final();
  return cipher.getAuthTag();
}

/** Authenticates the header under the unwrapped data key; `integrity` when anything in it was changed. */
export function checkHeaderTag(encoded: EncodedHeader, dataKey: Buffer, tag: Buffer): void {
  const decipher = createDecipheriv(
    'aes-256-gcm',
    dataKey,
    chunkNonce(Buffer.from(encoded.header.noncePrefix, 'base64'), HEADER_TAG_INDEX, 2),
  );
  decipher.setAAD(encoded.bound);
  try {
    decipher.setAuthTag(tag);
    decipher.final();
  } catch (error) {
    throw new FleetError(
      'integrity',
      `backup ${encoded.header.backupId}: header failed authentication (altered, or not made with this key)`,
      { cause: error },
    );
  }
}

/** What every chunk is bound to: the digest of the header bytes. */
export function chunkAad(bound: Buffer): Buffer {
  return createHash('sha256').update(bound).digest();
}

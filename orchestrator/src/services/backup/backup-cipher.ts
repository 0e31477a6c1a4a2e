import { createCipheriv, createDecipheriv } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { chunkAad, chunkNonce, HEADER_TAG_INDEX, TAG_BYTES } from './backup-envelope.ts';

/**
 * The content of a backup as a sequence of AES-256-GCM chunks (the STREAM construction): chunk `i` is
 * sealed with nonce prefix | i | final-flag and bound to the header digest. Every chunk but the last
 * holds exactly `chunkBytes` of plaintext; the last holds the rest (possibly nothing) and carries the
 * final flag. So a reordered chunk fails (wrong index), a stream cut at a chunk boundary fails (its new
 * last chunk was not sealed as final), and bytes appended after the final chunk fail (it is then read
 * as non-final). Memory stays at about one chunk whatever the size.
 */

export interface ChunkParams {
  dataKey: Buffer;
  noncePrefix: Buffer;
  chunkBytes: number;
  /** The header bytes (see backup-envelope.ts) the chunks are bound to. */
  bound: Buffer;
}

/** Collects incoming buffers and hands them out in pieces of an exact size without quadratic copying. */
class Accumulator {
  private parts: Buffer[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.length += chunk.byteLength;
  }

  take(count: number): Buffer {
    const all = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.length);
    const taken = all.subarray(0, count);
    const rest = all.subarray(count);
    this.parts = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return taken;
  }
}

function checkIndex(index: number): void {
  if (index >= HEADER_TAG_INDEX)
    throw new FleetError('invalid_input', 'backup is too large for its chunk size');
}

/** Encrypts a plaintext stream into sealed chunks. */
export async function* encryptChunks(
  plaintext: AsyncIterable<Uint8Array | string>,
  params: ChunkParams,
): AsyncGenerator<Buffer> {
  const aad = chunkAad(params.bound);
  const seal = (index: number, body: Buffer, final: boolean): Buffer => {
    checkIndex(index);
    const cipher = createCipheriv(
      'aes-256-gcm',
      params.dataKey,
      chunkNonce(params.noncePrefix, index, final ? 1 : 0),
    );
    cipher.setAAD(aad);
    return Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]);
  };
  const pending = new Accumulator();
  let index = 0;
  for await (const chunk of plaintext) {
    pending.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    // Strictly more than one chunk: the last chunk must wait until we know it is the last.
    while (pending.length > params.chunkBytes) yield seal(index++, pending.take(params.chunkBytes), false);
  }
  yield seal(index, pending.take(pending.length), true);
}

/**
 * Decrypts sealed chunks; each chunk is authenticated before its plaintext is yielded. A failure throws an
 * `integrity` error naming the chunk. A cut stream is only known at its end: consumers write into a
 * staging place and commit once the generator has finished.
 */
export async function* decryptChunks(
  ciphertext: AsyncIterable<Uint8Array>,
  params: ChunkParams & { backupId: string },
): AsyncGenerator<Buffer> {
  const aad = chunkAad(params.bound);
  const record = params.chunkBytes + TAG_BYTES;
  const open = (index: number, sealed: Buffer, final: boolean): Buffer => {
    checkIndex(index);
    const decipher = createDecipheriv(
      'aes-256-gcm',
      params.dataKey,
      chunkNonce(params.noncePrefix, index, final ? 1 : 0),
    );
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (error) {
      throw new FleetError(
        'integrity',
        final
          ? `backup ${params.backupId}: last chunk (${index}) failed authentication: the backup is truncated, extended or altered`
          : `backup ${params.backupId}: chunk ${index} failed authentication: the backup is altered or reordered`,
        { cause: error },
      );
    }
  };
  const pending = new Accumulator();
  let index = 0;
  for await (const chunk of ciphertext) {
    pending.push(chunk);
    while (pending.length > record) yield open(index++, pending.take(record), false);
  }
  if (pending.length < TAG_BYTES)
    throw new FleetError('integrity', `backup ${params.backupId}: truncated (the last chunk is incomplete)`);
  yield open(index, pending.take(pending.length), true);
}

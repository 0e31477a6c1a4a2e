import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { decryptChunks, encryptChunks } from '../../../orchestrator/src/services/backup/backup-cipher.ts';
import {
  BACKUP_PREFIX_BYTES,
  checkHeaderIdentity,
  checkHeaderTag,
  decodeBackupHeader,
  decodeBackupPrefix,
  encodeBackupFront,
  TAG_BYTES,
  type BackupHeader,
} from '../../../orchestrator/src/services/backup/backup-envelope.ts';

const CHUNK = 1024;

function header(overrides: Partial<BackupHeader> = {}): BackupHeader {
  return {
    format: 'agent-fleet-backup',
    version: 1,
    clientId: 'acme',
    backupId: '20261204T030000Z-1a2b3c4d',
    createdAt: '2026-12-04T03:00:00.000Z',
    cipher: 'aes-256-gcm-chunked',
    chunkBytes: CHUNK,
    noncePrefix: randomBytes(7).toString('base64'),
    wrappedKey: 'vault:v1:AAAA',
    contentType: 'application/x-tar',
    ...overrides,
  };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** A sealed body and what decrypting it needs. */
async function seal(plaintext: Buffer, inputPiece = 333) {
  const dataKey = randomBytes(32);
  const h = header();
  const front = encodeBackupFront(h, dataKey);
  const bound = front.subarray(0, front.length - TAG_BYTES);
  const params = { dataKey, noncePrefix: Buffer.from(h.noncePrefix, 'base64'), chunkBytes: CHUNK, bound };
  const body = await collect(encryptChunks(pieces(plaintext, inputPiece), params));
  return { body, front, params: { ...params, backupId: h.backupId }, header: h, dataKey };
}

const open = (body: Buffer, params: Parameters<typeof decryptChunks>[1], piece = 500) =>
  collect(decryptChunks(pieces(body, piece), params));

const integrity = (pattern: RegExp) => (e: unknown) =>
  isFleetError(e) && e.code === 'integrity' && pattern.test(e.message);

void describe('backup chunk cipher', () => {
  void test('any length round-trips, whatever the input and read chunking', async () => {
    for (const length of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 10 * CHUNK + 7]) {
      const plaintext = randomBytes(length);
      const sealed = await seal(plaintext, 1 + (length % 700));
      const chunks = Math.floor(Math.max(length - 1, 0) / CHUNK) + 1;
      assert.equal(sealed.body.length, length + chunks * TAG_BYTES, `length ${length}`);
      for (const piece of [1, 17, CHUNK + TAG_BYTES, 100_000])
        assert.ok(
          (await open(sealed.body, sealed.params, piece)).equals(plaintext),
          `length ${length} piece ${piece}`,
        );
    }
  });

  void test('no plaintext appears in the ciphertext', async () => {
    const marker = Buffer.from('SUBJECT: quarterly numbers for ACME — confidential');
    const sealed = await seal(Buffer.concat([marker, randomBytes(5000), marker]));
    assert.equal(sealed.body.includes(marker), false);
    assert.equal(sealed.body.includes(marker.subarray(0, 16)), false);
  });

  void test('a flipped byte anywhere in the body fails, naming the chunk', async () => {
    const sealed = await seal(randomBytes(4 * CHUNK + 100));
    for (const [offset, pattern] of [
      [10, /chunk 0 failed authentication/],
      [2 * (CHUNK + TAG_BYTES) + 5, /chunk 2 failed authentication/],
      [sealed.body.length - 1, /last chunk \(4\) failed/],
    ] as const) {
      const tampered = Buffer.from(sealed.body);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x80;
      await assert.rejects(open(tampered, sealed.params), integrity(pattern));
    }
  });

  void test('reordered chunks, a stream cut at a chunk boundary or inside one, and appended bytes all fail', async () => {
    const sealed = await seal(randomBytes(4 * CHUNK + 100));
    const record = CHUNK + TAG_BYTES;
    const swapped = Buffer.concat([
      sealed.body.subarray(record, 2 * record),
      sealed.body.subarray(0, record),
      sealed.body.subarray(2 * record),
    ]);
    await assert.rejects(open(swapped, sealed.params), integrity(/chunk 0 failed/));
    await assert.rejects(
      open(sealed.body.subarray(0, 2 * record), sealed.params),
      integrity(/truncated, extended or altered/),
    );
    await assert.rejects(
      open(sealed.body.subarray(0, 2 * record + 10), sealed.params),
      integrity(/last chunk/),
    );
    await assert.rejects(open(Buffer.alloc(0), sealed.params), integrity(/truncated/));
    await assert.rejects(
      open(Buffer.concat([sealed.body, Buffer.from([0])]), sealed.params),
      integrity(/failed authentication/),
    );
    // A whole final chunk dropped: the previous one was not sealed as final.
    const exact = await seal(randomBytes(3 * CHUNK));
    await assert.rejects(
      open(exact.body.subarray(0, 2 * record), exact.params),
      integrity(/truncated, extended or altered/),
    );
  });

  void test('another data key, or chunks bound to another header, fail', async () => {
    const sealed = await seal(randomBytes(2 * CHUNK));
    await assert.rejects(
      open(sealed.body, { ...sealed.params, dataKey: randomBytes(32) }),
      integrity(/chunk 0/),
    );
    await assert.rejects(
      open(sealed.body, { ...sealed.params, bound: Buffer.from('another header') }),
      integrity(/chunk 0/),
    );
  });
});

void describe('backup envelope header', () => {
  void test('the front decodes back to the header, and its tag authenticates under the data key', () => {
    const dataKey = randomBytes(32);
    const h = header();
    const front = encodeBackupFront(h, dataKey);
    const prefix = front.subarray(0, BACKUP_PREFIX_BYTES);
    const length = decodeBackupPrefix(prefix);
    const encoded = decodeBackupHeader(
      prefix,
      front.subarray(BACKUP_PREFIX_BYTES, BACKUP_PREFIX_BYTES + length),
    );
    assert.deepEqual(encoded.header, h);
    checkHeaderTag(encoded, dataKey, front.subarray(front.length - TAG_BYTES));
    assert.throws(
      () => checkHeaderTag(encoded, randomBytes(32), front.subarray(front.length - TAG_BYTES)),
      integrity(/header failed authentication/),
    );
  });

  void test('an edited header (another client named, same length) fails its tag', () => {
    const dataKey = randomBytes(32);
    const front = encodeBackupFront(header(), dataKey);
    const edited = Buffer.from(
      front.toString('latin1').replace('"clientId":"acme"', '"clientId":"abcd"'),
      'latin1',
    );
    const prefix = edited.subarray(0, BACKUP_PREFIX_BYTES);
    const encoded = decodeBackupHeader(
      prefix,
      edited.subarray(BACKUP_PREFIX_BYTES, BACKUP_PREFIX_BYTES + decodeBackupPrefix(prefix)),
    );
    assert.equal(encoded.header.clientId, 'abcd');
    assert.throws(
      () => checkHeaderTag(encoded, dataKey, edited.subarray(edited.length - TAG_BYTES)),
      integrity(/altered/),
    );
  });

  void test('a foreign client or another backup id is refused by name before any key is used', () => {
    assert.throws(
      () => checkHeaderIdentity(header(), parseClientId('globex')),
      integrity(/belongs to client acme, not globex/),
    );
    assert.throws(
      () => checkHeaderIdentity(header(), parseClientId('acme'), '20261205T030000Z-00000000'),
      integrity(/holds backup 20261204T030000Z-1a2b3c4d/),
    );
    checkHeaderIdentity(header(), parseClientId('acme'), '20261204T030000Z-1a2b3c4d');
  });

  void test('not a backup, an unknown version, an absurd header length or a malformed header are refused', () => {
    assert.throws(
      () => decodeBackupPrefix(Buffer.from('PK\x03\x04\x00\x00\x00\x00\x00')),
      integrity(/not an agent-fleet backup/),
    );
    assert.throws(() => decodeBackupPrefix(Buffer.from('AFBK')), integrity(/not an agent-fleet backup/));
    assert.throws(
      () => decodeBackupPrefix(Buffer.from([...Buffer.from('AFBK'), 9, 0, 0, 0, 10])),
      integrity(/version 9/),
    );
    assert.throws(
      () => decodeBackupPrefix(Buffer.from([...Buffer.from('AFBK'), 1, 0x7f, 0, 0, 0])),
      integrity(/out of range/),
    );
    const prefix = Buffer.from([...Buffer.from('AFBK'), 1, 0, 0, 0, 2]);
    assert.throws(() => decodeBackupHeader(prefix, Buffer.from('{}')), integrity(/header is invalid/));
    assert.throws(() => decodeBackupHeader(prefix, Buffer.from('{x')), integrity(/not JSON/));
    const digest = createHash('sha256').update('x').digest('hex');
    assert.throws(
      () => decodeBackupHeader(prefix, Buffer.from(JSON.stringify({ ...header(), extra: digest }))),
      integrity(/header is invalid/),
    );
  });
});

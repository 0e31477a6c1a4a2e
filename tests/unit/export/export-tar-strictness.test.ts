import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { verifyExportArchive } from '../../../orchestrator/src/services/export/export-archive-verifier.ts';
import type { ExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { buildArchive } from './archive-helpers.ts';

/**
 * Archives crafted below the level of entries: tar headers an auditor's tar reads differently from a
 * lenient parser, headers that claim huge sizes, bytes after the end, endless input.
 * The verifier must fail closed on each, quickly and in bounded memory.
 */

function memorySigner(): ExportSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: `sha256:${createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex')}`,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (data) => sign(null, data, privateKey),
  };
}

const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;

/** One 512-byte tar header with a correct checksum; `size` may be a raw 12-byte field. */
function header(name: string, type: string, size: number | Buffer, magic = 'ustar\u000000'): Buffer {
  const block = Buffer.alloc(512);
  Buffer.from(name, 'utf8').copy(block, 0, 0, 100);
  block.write(octal(0o644, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  if (typeof size === 'number') block.write(octal(size, 12), 124);
  else size.copy(block, 124);
  block.write(octal(0, 12), 136);
  block.write(type, 156, 'latin1');
  block.write(magic, 257, 'latin1');
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

const padded = (data: Buffer) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);

function paxRecord(key: string, value: string): string {
  const body = Buffer.byteLength(` ${key}=${value}\n`);
  let length = body + 1;
  while (String(length).length + body !== length) length++;
  return `${length} ${key}=${value}\n`;
}

void describe('export verify: crafted tar headers', () => {
  let signer: ExportSigner;
  let archive: Buffer;

  before(async () => {
    signer = memorySigner();
    archive = (
      await buildArchive(signer, [
        { name: 'audit/audit-log.jsonl', description: 'The audit log.', open: () => ['{"seq":1}\n'] },
        { name: 'notes.txt', description: 'Notes.', open: () => ['hello\n'] },
      ])
    ).archive;
    assert.equal((await verifyExportArchive([archive], signer.publicKeyPem)).ok, true);
  });

  void test('a pax global header that renames every entry for GNU tar is refused, not skipped', async () => {
    // GNU tar would extract every entry as audit/audit-log.jsonl (the last, the signature, winning).
    const pax = Buffer.from(paxRecord('path', 'audit/audit-log.jsonl'));
    const result = await verifyExportArchive(
      [Buffer.concat([header('pax_global_header', 'g', pax.length), padded(pax), archive])],
      signer.publicKeyPem,
    );
    assert.equal(result.ok, false);
    assert.equal(result.problems[0]?.kind, 'corrupt-archive');
    assert.match(result.problems[0]?.message ?? '', /pax global header/);
  });

  void test('a GNU long-name header, or a pax header setting anything but names, is refused', async () => {
    for (const [type, record, label] of [
      ['L', 'notes.txt', /GNU long-name header/],
      ['x', paxRecord('size', '6'), /sets "size"/],
      ['x', paxRecord('GNU.sparse.map', '0,6'), /sets "GNU.sparse.map"/],
      ['x', paxRecord('hdrcharset', 'BINARY'), /sets "hdrcharset"/],
      ['x', `${paxRecord('path', 'a')}${paxRecord('path', 'b')}`, /sets path twice/],
      ['x', '99 path=short\n', /malformed record/],
    ] as const) {
      const body = Buffer.from(record);
      const result = await verifyExportArchive(
        [Buffer.concat([header('extra', type, body.length), padded(body), archive])],
        signer.publicKeyPem,
      );
      assert.equal(result.ok, false, record);
      assert.equal(result.problems[0]?.kind, 'corrupt-archive', record);
      assert.match(result.problems[0]?.message ?? '', label);
    }
  });

  void test('an entry named by a pax header is reported under that name, and flagged for the header', async () => {
    const hostile = 'notes\u001b]0;owned\u0007 caf\u00e9.txt';
    const pax = Buffer.from(paxRecord('path', hostile));
    const content = Buffer.from('x');
    const rebuilt = Buffer.concat([
      archive.subarray(0, archive.length - 1024),
      header('PaxHeaders/0', 'x', pax.length),
      padded(pax),
      header('ignored-ustar-name', '0', content.length),
      padded(content),
      Buffer.alloc(1024),
    ]);
    const result = await verifyExportArchive([rebuilt], signer.publicKeyPem);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => [p.kind, p.file]),
      [
        ['extended-header', hostile],
        ['unexpected-file', hostile],
      ],
    );
  });

  void test('a harmless-looking pax header (a comment) before a listed file still fails verification', async () => {
    const pax = Buffer.from(paxRecord('comment', 'nothing to see'));
    const result = await verifyExportArchive(
      [Buffer.concat([header('PaxHeaders/0', 'x', pax.length), padded(pax), archive])],
      signer.publicKeyPem,
    );
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => [p.kind, p.file]),
      [['extended-header', 'audit/audit-log.jsonl']],
    );
  });

  void test('an extension header claiming hundreds of MB is refused at once, not buffered', async () => {
    let pulled = 0;
    const claimed = 64 * 1024 * 1024;
    const source = (async function* () {
      const first = header('PaxHeaders/bomb', 'x', claimed);
      pulled += first.length;
      yield first;
      const zeros = Buffer.alloc(1024 * 1024);
      for (let sent = 0; sent < claimed; sent += zeros.length) {
        pulled += zeros.length;
        yield zeros;
      }
    })();
    const result = await verifyExportArchive(source, signer.publicKeyPem);
    assert.equal(result.ok, false);
    assert.equal(result.problems[0]?.kind, 'corrupt-archive');
    assert.ok(pulled <= 2 * 1024 * 1024, `read ${pulled} bytes of a refused archive`);
  });

  void test('GNU-format headers and sizes that are not plain octal (base-256, negative, junk) are refused', async () => {
    const negative = Buffer.alloc(12, 0xff);
    const junk = Buffer.from('0000000001x9', 'latin1');
    for (const [label, block] of [
      ['gnu magic', header('notes.txt', '0', 6, 'ustar  \0')],
      ['negative base-256', header('notes.txt', '0', negative)],
      ['junk digits', header('notes.txt', '0', junk)],
    ] as const) {
      const result = await verifyExportArchive([Buffer.concat([block, Buffer.alloc(512), archive])], signer.publicKeyPem);
      assert.equal(result.ok, false, label);
      assert.equal(result.problems[0]?.kind, 'corrupt-archive', label);
    }
  });

  void test('a symlink or directory that claims data is refused: tools frame its bytes differently', async () => {
    const result = await verifyExportArchive(
      [Buffer.concat([header('link', '2', 512), Buffer.alloc(512, 0x41), archive])],
      signer.publicKeyPem,
    );
    assert.equal(result.ok, false);
    assert.equal(result.problems[0]?.kind, 'corrupt-archive');
    assert.match(result.problems[0]?.message ?? '', /symlink entry claims 512 bytes/);
  });

  void test('data after the end-of-archive marker fails; zero padding to a tar record does not', async () => {
    const hidden = padded(Buffer.from('hidden text no tar tool extracts'));
    const after = await verifyExportArchive([Buffer.concat([archive, hidden])], signer.publicKeyPem);
    assert.equal(after.ok, false);
    assert.match(after.problems[0]?.message ?? '', /data after its end-of-archive marker/);
    const recordPadded = await verifyExportArchive([Buffer.concat([archive, Buffer.alloc(10240)])], signer.publicKeyPem);
    assert.equal(recordPadded.ok, true, JSON.stringify(recordPadded.problems));
  });

  void test('an endless source of zeros (a device, not an archive) ends with a refusal, not a hang', async () => {
    let pulled = 0;
    const zeros = (function* () {
      const block = Buffer.alloc(64 * 1024);
      for (;;) {
        pulled += block.length;
        yield block;
      }
    })();
    const result = await verifyExportArchive(zeros, signer.publicKeyPem);
    assert.equal(result.ok, false);
    assert.match(result.problems[0]?.message ?? '', /zero bytes after its end-of-archive marker/);
    assert.ok(pulled <= 2 * 1024 * 1024, `read ${pulled} bytes`);
  });

  void test('an archive cut exactly before its end-of-archive marker fails as truncated', async () => {
    const cut = await verifyExportArchive([archive.subarray(0, archive.length - 1024)], signer.publicKeyPem);
    assert.equal(cut.ok, false);
    assert.match(cut.problems[0]?.message ?? '', /end-of-archive marker: it was cut short/);
    const lone = await verifyExportArchive([archive.subarray(0, archive.length - 512)], signer.publicKeyPem);
    assert.equal(lone.ok, false);
  });
});

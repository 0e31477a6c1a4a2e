import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { sealBackup } from '../../../orchestrator/src/services/backup/backup-stream.ts';
import { encryptEvidence, openEvidence } from '../../../orchestrator/src/services/incidents/evidence-cipher.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';

const acme = parseClientId('acme');
const beta = parseClientId('beta');
const BUNDLE = 'acme-20261201T100000Z-a1b2c3';
const createdAt = new Date('2026-12-01T10:00:00Z');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const failsWith = (code: string, message: RegExp) => (error: unknown) => {
  assert.equal((error as { code?: string }).code, code);
  assert.match((error as Error).message, message);
  return true;
};

describe('evidence bundles at rest', () => {
  let dir: string;
  let plainFile: string;
  // A tar-like plaintext larger than one chunk, with a marker that must not survive encryption.
  const plaintext = Buffer.concat([Buffer.from('ustar audit/audit-log.jsonl boss@client.example\n'), randomBytes(200_000)]);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'evidence-cipher-'));
    plainFile = path.join(dir, 'bundle.tar');
    await writeFile(plainFile, plaintext);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('round trip under the client key; nothing of the plaintext in the file kept', async () => {
    const keys = new MemoryKeyWrapper([acme]);
    const file = path.join(dir, `${BUNDLE}.tar.enc`);
    await encryptEvidence(plainFile, file, { clientId: acme, bundleId: BUNDLE, createdAt, keys });
    const atRest = await readFile(file);
    assert.equal(atRest.subarray(0, 4).toString(), 'AFBK');
    assert.ok(!atRest.includes('boss@client.example') && !atRest.includes('ustar'));
    assert.deepEqual(await readAll(await openEvidence(file, { clientId: acme, bundleId: BUNDLE }, keys)), plaintext);
  });

  test("refused under another client's id, under another bundle's name, altered, or once the key is destroyed", async () => {
    const keys = new MemoryKeyWrapper([acme, beta]);
    const file = path.join(dir, `${BUNDLE}-refusals.tar.enc`);
    const identity = { clientId: acme, bundleId: `${BUNDLE}x` };
    await encryptEvidence(plainFile, file, { ...identity, createdAt, keys });
    await assert.rejects(openEvidence(file, { clientId: beta, bundleId: identity.bundleId }, keys), failsWith('integrity', /belongs to client acme, not beta/));
    await assert.rejects(openEvidence(file, { clientId: acme, bundleId: BUNDLE }, keys), failsWith('integrity', /holds backup .*, not /));
    const altered = await readFile(file);
    altered[altered.length - 50] = (altered[altered.length - 50] ?? 0) ^ 1;
    const alteredFile = path.join(dir, 'altered.tar.enc');
    await writeFile(alteredFile, altered);
    await assert.rejects(readAll(await openEvidence(alteredFile, identity, keys)), failsWith('integrity', /./));
    keys.destroy(acme);
    await assert.rejects(openEvidence(file, identity, keys), failsWith('integrity', /cannot be unwrapped/));
  });

  test('a backup of the client renamed into an incident is not taken for evidence', async () => {
    const keys = new MemoryKeyWrapper([acme]);
    const file = path.join(dir, 'renamed-backup.tar.enc');
    const backup = sealBackup(Readable.from([plaintext]), { clientId: acme, backupId: BUNDLE, createdAt, contentType: 'application/x-tar', keys });
    await writeFile(file, await readAll(Readable.from(backup)));
    await assert.rejects(openEvidence(file, { clientId: acme, bundleId: BUNDLE }, keys), failsWith('integrity', /not an evidence bundle/));
  });

  test('a client without a key gets no file, and an existing file is never replaced', async () => {
    const keys = new MemoryKeyWrapper([acme]);
    const orphan = path.join(dir, 'orphan.tar.enc');
    await assert.rejects(encryptEvidence(plainFile, orphan, { clientId: beta, bundleId: 'beta-20261201T100000Z-a1b2c3', createdAt, keys }), failsWith('not_found', /no data key/));
    assert.ok(!(await readdir(dir)).includes('orphan.tar.enc'));
    const existing = path.join(dir, 'existing.tar.enc');
    await writeFile(existing, 'keep me');
    await assert.rejects(encryptEvidence(plainFile, existing, { clientId: acme, bundleId: BUNDLE, createdAt, keys }), { code: 'EEXIST' });
    assert.equal(await readFile(existing, 'utf8'), 'keep me');
  });

  test('a bundle sealed before evidence was encrypted (a plain tar) is read as it is', async () => {
    const keys = new MemoryKeyWrapper([acme]);
    assert.deepEqual(await readAll(await openEvidence(plainFile, { clientId: acme, bundleId: BUNDLE }, keys)), plaintext);
  });
});

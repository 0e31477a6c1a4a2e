// What an export spools to disk while it writes the archive is client data (sent mail, drafts, audit
// records): a crash between the spool and the archive must not leave it readable on the orchestrator's disk.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { EntrySpool } from '../../../orchestrator/src/services/export/entry-spool.ts';

const MARKER = 'Subject: quarterly numbers for jane@acme.example';

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

describe('the export spool', () => {
  let parent: string;
  before(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'entry-spool-'));
  });
  after(() => rm(parent, { recursive: true, force: true }));

  test('a spooled entry is not readable on disk (what a crash leaves), and reads back whole in this process', async () => {
    const spool = await EntrySpool.create(parent);
    const lines = Array.from({ length: 2000 }, (_, index) => `{"n":${index},"line":"${MARKER}"}\n`);
    const spooled = await spool.spool(lines, 1);
    const [directory] = await readdir(parent);
    const onDisk = await readFile(path.join(parent, directory ?? '', 'entry-1'));
    assert.equal(spooled.size, Buffer.byteLength(lines.join('')));
    assert.ok(!onDisk.includes(MARKER), 'the plaintext is not on disk');
    assert.ok(!onDisk.includes('"line"'), 'not even its structure');
    assert.equal(await collect(spool.read(spooled)), lines.join(''));
    await spool.dispose();
    assert.deepEqual(await readdir(parent), [], 'the spool directory goes');
  });

  test('a spooled file changed on disk is refused when it is read back', async () => {
    const spool = await EntrySpool.create(parent);
    const spooled = await spool.spool([MARKER], 2);
    const bytes = await readFile(spooled.path);
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    await writeFile(spooled.path, bytes);
    await assert.rejects(collect(spool.read(spooled)), (error) => isFleetError(error) && error.code === 'integrity');
    await spool.dispose();
  });
});

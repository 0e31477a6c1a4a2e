// The export's reader of the agent's line files (journals and audit files on the volume, possibly hostile):
// it holds one line at a time and never more than the journals' own line bound.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { lineFileLines } from '../../../agent-image/src/services/audit-log/line-file.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function fileWith(content: string | Buffer): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'agent-line-stream-'));
  directories.push(directory);
  const path = join(directory, 'journal.log');
  await writeFile(path, content);
  return path;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

const tooLong = (error: unknown) => isFleetError(error) && error.code === 'integrity' && /journal\.log holds a line longer than 1000 bytes/.test(error.message);

describe('reading the lines of an agent journal for the export', () => {
  test('complete lines are read whole across read chunks and characters cut between them; a torn tail is not', async () => {
    const long = 'é'.repeat(300_000);
    const path = await fileWith(`first\n${long}\nlast\ntorn`);
    assert.deepEqual(await collect(lineFileLines(path)), ['first', long, 'last']);
  });

  test('a line longer than the bound is refused before it is held whole', async () => {
    const path = await fileWith(`ok\n${'x'.repeat(5_000)}\nafter\n`);
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const line of lineFileLines(path, 1_000)) seen.push(line);
    }, tooLong);
    assert.deepEqual(seen, ['ok']);
  });

  test('an endless tail without a newline is refused too, not accumulated', async () => {
    const path = await fileWith(`ok\n${'y'.repeat(5_000)}`);
    await assert.rejects(collect(lineFileLines(path, 1_000)), tooLong);
  });

  test('a line of exactly the bound is read; a missing file has no lines', async () => {
    const path = await fileWith(`${'z'.repeat(1_000)}\n`);
    assert.deepEqual(await collect(lineFileLines(path, 1_000)), ['z'.repeat(1_000)]);
    assert.deepEqual(await collect(lineFileLines(join(tmpdir(), 'no-such-journal-dir', 'missing.log'))), []);
  });

  test('a link in place of an audit file is refused, not followed out of the volume', async () => {
    const outside = await fileWith('outside the volume\n');
    const link = join(directories.at(-1)!, 'audit-2099-01-01.log');
    await symlink(outside, link);
    await assert.rejects(collect(lineFileLines(link)), (error: unknown) => isFleetError(error) && error.code === 'integrity');
  });
});

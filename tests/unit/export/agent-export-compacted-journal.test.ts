// A long-lived agent compacts its journals (state, approvals, outbox): the compacted file starts with a
// marker sealed at seq 0 naming the head it replaced, and its events carry on from that seq. The export
// reads those journals too, and must read a compacted one as the agent itself does.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sealEnvelope } from '../../../agent-image/src/services/audit-log/envelope.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { exportPart } from '../../../agent-image/src/services/data-export/export-parts.ts';
import { readJournal } from '../../../agent-image/src/services/data-export/journal-reader.ts';
import { VolumeReader } from '../../../agent-image/src/services/data-export/volume-reader.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'agent-export-compacted-'));
  directories.push(directory);
  return directory;
}

const asObject = (value: unknown): Record<string, unknown> => value as Record<string, unknown>;

async function collect<E>(source: AsyncIterable<E>): Promise<E[]> {
  const all: E[] = [];
  for await (const item of source) all.push(item);
  return all;
}

describe('the export reads a journal the agent compacted', () => {
  test('a compacted journal is read from its marker on, events numbered on from the replaced head', async () => {
    const volume = await freshDirectory();
    const keys = KeyRing.single(randomBytes(32));
    const options = {
      directory: join(volume, 'state'),
      file: 'state.log',
      purpose: 'state' as const,
      keys,
      parse: asObject,
      compactAbove: 4,
      // Only the latest value of each key matters: what the agent's own snapshots do.
      snapshot: (events: Record<string, unknown>[]) => [events.at(-1) ?? {}],
    };
    const first = await EncryptedJournal.open(options);
    for (let i = 1; i <= 8; i++) await first.journal.append({ key: 'k', value: i });
    await first.journal.close();
    const compacted = await EncryptedJournal.open(options);
    assert.deepEqual(compacted.events, [{ key: 'k', value: 8 }]);
    await compacted.journal.append({ key: 'k', value: 9 });
    await compacted.journal.close();

    const exported = (await collect(exportPart('state.jsonl', new VolumeReader(volume, keys), new Date()))).join('');
    assert.deepEqual(exported.trim().split('\n').map((line) => JSON.parse(line) as unknown), [{ key: 'k', value: 8 }, { key: 'k', value: 9 }]);
  });

  test('a marker anywhere but on the first line, or a journal whose first events were cut off, is refused', async () => {
    const keys = KeyRing.single(randomBytes(32));
    const line = (seq: number, value: unknown) => `${sealEnvelope(keys, 'state', seq, Buffer.from(JSON.stringify(value))).toString('base64')}\n`;
    const cut = await freshDirectory();
    await writeFile(join(cut, 'state.log'), line(5, { a: 1 }) + line(6, { a: 2 }));
    await assert.rejects(collect(readJournal(cut, 'state.log', 'state', keys, asObject)), { code: 'integrity' });
    const late = await freshDirectory();
    await writeFile(join(late, 'state.log'), line(1, { a: 1 }));
    await appendFile(join(late, 'state.log'), line(0, { compactionOf: { seq: 1, hash: 'f'.repeat(64) } }));
    await assert.rejects(collect(readJournal(late, 'state.log', 'state', keys, asObject)), { code: 'integrity' });
  });
});

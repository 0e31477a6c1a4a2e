// An export hands out the audit chain only as far as it holds: a stored line deleted, moved or copied
// (each line still authenticates on its own) stops the export at the break with an integrity error, and
// no record from the break on is written as if the chain were whole.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { exportPart } from '../../../agent-image/src/services/data-export/export-parts.ts';
import { VolumeReader } from '../../../agent-image/src/services/data-export/volume-reader.ts';
import { dataKey, readLines, sendEntry, temporaryDirectory, writeLines } from '../audit/helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const DAY_ONE = 'audit-2026-03-01.log';
const DAY_TWO = 'audit-2026-03-02.log';

/** A volume whose audit log holds records 1–3 on 1 March and 4–6 on 2 March. */
async function volume(): Promise<{ dataDir: string; audit: string; key: Buffer }> {
  const dir = await temporaryDirectory('export-audit-chain');
  cleanups.push(dir.remove);
  const audit = join(dir.path, 'audit');
  const key = dataKey();
  let now = new Date('2026-03-01T10:00:00Z');
  const log = await AuditLog.open({ directory: audit, keys: key, now: () => now });
  for (let index = 1; index <= 6; index++) {
    if (index === 4) now = new Date('2026-03-02T10:00:00Z');
    await log.append(sendEntry(index));
  }
  await log.close();
  return { dataDir: dir.path, audit, key };
}

async function editLines(path: string, edit: (lines: string[]) => string[]): Promise<void> {
  await writeLines(path, edit(await readLines(path)));
}

/** The part's text up to where it stopped, and the error it stopped with (null: it ran to its end). */
async function partText(dataDir: string, key: Buffer): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const chunk of exportPart('audit.jsonl', new VolumeReader(dataDir, KeyRing.single(key)), new Date())) text += chunk;
    return { text, error: null };
  } catch (error) {
    return { text, error };
  }
}

function seqs(jsonl: string): number[] {
  return jsonl
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, text: () => text };
}

const isIntegrity = (error: unknown) => error instanceof FleetError && error.code === 'integrity';

describe('the complete export follows the audit chain', () => {
  it('a whole chain is exported in full', async () => {
    const { dataDir, key } = await volume();
    const { text, error } = await partText(dataDir, key);
    assert.equal(error, null);
    assert.deepEqual(seqs(text), [1, 2, 3, 4, 5, 6]);
  });

  it('a deleted line stops the export at the gap', async () => {
    const { dataDir, audit, key } = await volume();
    await editLines(join(audit, DAY_ONE), (lines) => [lines[0] as string, lines[2] as string]);
    const { text, error } = await partText(dataDir, key);
    assert.ok(isIntegrity(error), String(error));
    assert.match((error as Error).message, /record 2 \(gap/);
    assert.deepEqual(seqs(text), [1]);
  });

  it('two swapped lines stop the export before the first moved record', async () => {
    const { dataDir, audit, key } = await volume();
    await editLines(join(audit, DAY_TWO), (lines) => [lines[1] as string, lines[0] as string, lines[2] as string]);
    const { text, error } = await partText(dataDir, key);
    assert.ok(isIntegrity(error), String(error));
    assert.deepEqual(seqs(text), [1, 2, 3]);
  });

  it('a log whose first lines were deleted is refused from its first record', async () => {
    const { dataDir, audit, key } = await volume();
    await editLines(join(audit, DAY_ONE), (lines) => lines.slice(1));
    const { text, error } = await partText(dataDir, key);
    assert.ok(isIntegrity(error), String(error));
    assert.equal(text, '');
  });
});

describe("the agent's own audit export follows the chain", () => {
  it('a full export stops at a copied line', async () => {
    const { audit, key } = await volume();
    await editLines(join(audit, DAY_TWO), (lines) => [lines[0] as string, lines[0] as string, ...lines.slice(1)]);
    const log = await AuditLog.open({ directory: audit, keys: key });
    const out = sink();
    await assert.rejects(log.exportTo('jsonl', out.stream), isIntegrity);
    assert.deepEqual(seqs(out.text()), [1, 2, 3, 4]);
    await log.close();
  });

  it('a ranged export follows the chain from the first file it reads, and stops at a gap inside it', async () => {
    const { audit, key } = await volume();
    const log = await AuditLog.open({ directory: audit, keys: key });
    const whole = sink();
    assert.equal(await log.exportTo('jsonl', whole.stream, { since: new Date('2026-03-02T00:00:00Z') }), 3);
    assert.deepEqual(seqs(whole.text()), [4, 5, 6]);
    await log.close();

    await editLines(join(audit, DAY_TWO), (lines) => [lines[0] as string, lines[2] as string]);
    const reopened = await AuditLog.open({ directory: audit, keys: key });
    const broken = sink();
    await assert.rejects(reopened.exportTo('csv', broken.stream, { since: new Date('2026-03-02T00:00:00Z') }), isIntegrity);
    assert.equal(broken.text().split('\r\n').filter((row) => row.length > 0).length, 2, 'the header and record 4 only');
    await reopened.close();
  });
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AuditCheckpoint } from '../../../agent-image/src/domain/audit-record.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { dataKey, readLines, sendEntry, temporaryDirectory, writeLines } from './helpers.ts';

/**
 * What `verify` tells an auditor: the file and line where the break is, and what it is in plain words,
 * never a seq that an unreadable line only claims.
 */

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const FILE = 'audit-2026-01-07.log';

/** A closed log of five records in one day file, its head, and a way to damage the file and reopen. */
async function fiveRecords(): Promise<{ head: AuditCheckpoint; damage: (change: (lines: string[]) => string[]) => Promise<AuditLog> }> {
  const dir = await temporaryDirectory('audit-verify-messages');
  cleanups.push(dir.remove);
  const keys = dataKey();
  const now = () => new Date('2026-01-07T12:00:00.000Z');
  const log = await AuditLog.open({ directory: dir.path, keys, now });
  for (let index = 1; index <= 5; index++) await log.append(sendEntry(index));
  const head = log.head();
  await log.close();
  assert.ok(head !== null);
  const path = join(dir.path, FILE);
  return {
    head,
    damage: async (change) => {
      await writeLines(path, change(await readLines(path)));
      const reopened = await AuditLog.open({ directory: dir.path, keys, now });
      cleanups.unshift(() => reopened.close());
      return reopened;
    },
  };
}

async function breakOf(log: AuditLog, checkpoint?: AuditCheckpoint) {
  const verdict = await log.verify({ checkpoint: checkpoint ?? null });
  assert.equal(verdict.ok, false);
  if (verdict.ok) throw new Error('unreachable');
  return verdict.break;
}

describe('audit verification names where the chain broke', () => {
  it('a line that is not a sealed record is named by its file and line, after the last good record', async () => {
    const { damage } = await fiveRecords();
    // The planted line claims record 900 in its clear header; only where it is can be trusted.
    const planted = Buffer.concat([Buffer.from([0x41, 0x01, 0, 0, 0, 1]), Buffer.from([0, 0, 0, 0, 0, 0, 3, 132]), Buffer.alloc(40)]).toString('base64');
    const log = await damage((lines) => [lines[0] ?? '', planted, ...lines.slice(1)]);
    const broken = await breakOf(log);
    assert.equal(broken.kind, 'undecryptable');
    assert.equal(broken.seq, 2, 'the break concerns the record after the last good one, not the seq the line claims');
    assert.match(broken.message, new RegExp(`^${FILE} line 2, after record 1, is not a record sealed with the client's key`));
  });

  it('a deleted, a duplicated and a moved record are each named with the line where the chain goes wrong', async () => {
    const cases: Array<[string, (lines: string[]) => string[], RegExp]> = [
      ['deleted', (lines) => lines.filter((_, index) => index !== 2), /^record 3 is missing: record 4 follows record 2 \(audit-2026-01-07\.log line 3\)$/],
      ['duplicated', (lines) => [...lines.slice(0, 2), lines[1] ?? '', ...lines.slice(2)], /^record 2 appears a second time, after record 2 \(audit-2026-01-07\.log line 3\)$/],
      ['swapped', (lines) => [lines[0] ?? '', lines[2] ?? '', lines[1] ?? '', ...lines.slice(3)], /^record 2 appears after a later record \(audit-2026-01-07\.log line 3\)$/],
    ];
    for (const [what, change, expected] of cases) {
      const { damage } = await fiveRecords();
      const broken = await breakOf(await damage(change));
      assert.match(broken.message, expected, what);
    }
  });

  it('a log cut back says where it now ends and which records were removed', async () => {
    const { head, damage } = await fiveRecords();
    const broken = await breakOf(await damage((lines) => lines.slice(0, 3)), head);
    assert.equal(broken.kind, 'truncated');
    assert.equal(broken.message, `log ends at record 3 (${FILE} line 3) but the checkpoint is at record 5: records 4 to 5 were removed`);
  });
});

import assert from 'node:assert/strict';
import { stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { dataKey, sendEntry, temporaryDirectory } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('audit log: files far too large to read whole', () => {
  it('an older day file grown to gigabytes is reported as a break by verify, not a crash', async () => {
    const dir = await temporaryDirectory('audit-huge');
    cleanups.push(dir.remove);
    const key = dataKey();
    let now = new Date('2026-03-01T10:00:00Z');
    const log = await AuditLog.open({ directory: dir.path, keys: key, now: () => now });
    await log.append(sendEntry(1));
    now = new Date('2026-03-02T10:00:00Z');
    await log.append(sendEntry(2));
    await log.close();
    // Sparse: 3 GiB of zero bytes after the older file's record, no newline, no disk used.
    const older = join(dir.path, 'audit-2026-03-01.log');
    await truncate(older, (await stat(older)).size + 3 * 1024 ** 3);

    const reopened = await AuditLog.open({ directory: dir.path, keys: key, now: () => now });
    const verification = await reopened.verify();
    assert.equal(verification.ok, false);
    assert.equal(!verification.ok && verification.break.kind, 'malformed');
    await reopened.close();
  });
});

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { readJournalEvents } from '../../../agent-image/src/services/data-export/journal-reader.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { dataKey, sendEntry, temporaryDirectory } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const day1 = new Date('2026-03-01T10:00:00Z');
const isIntegrity = (pattern: RegExp) => (error: unknown) => error instanceof FleetError && error.code === 'integrity' && pattern.test(error.message);

/** A volume with one audit record, and a file outside it holding bytes the agent may read but the volume's writer may not. */
async function volumeWithOutsideFile(prefix: string) {
  const dir = await temporaryDirectory(prefix);
  cleanups.push(dir.remove);
  const outside = join(dir.path, 'outside');
  const secret = randomBytes(24).toString('hex');
  await writeFile(outside, secret);
  const audit = join(dir.path, 'volume', 'audit');
  await mkdir(audit, { recursive: true });
  const key = dataKey();
  const log = await AuditLog.open({ directory: audit, keys: key, now: () => day1 });
  await log.append(sendEntry(1));
  await log.close();
  return { dir: dir.path, audit, key, outside, secret };
}

describe('audit log and journals: files in the volume that are not regular files', () => {
  it('a newest day file linked to a file outside the volume is refused: nothing copied into the volume, the target untouched', async () => {
    const volume = await volumeWithOutsideFile('audit-link');
    await symlink(volume.outside, join(volume.audit, 'audit-2026-03-02.log'));

    await assert.rejects(AuditLog.open({ directory: volume.audit, keys: volume.key, now: () => day1 }), isIntegrity(/symbolic link/));
    assert.equal(await readFile(volume.outside, 'utf8'), volume.secret);
    assert.deepEqual((await readdir(volume.audit)).sort(), ['audit-2026-03-01.log', 'audit-2026-03-02.log']);
  });

  it('a FIFO as a day file is refused at once instead of hanging the open', async () => {
    const volume = await volumeWithOutsideFile('audit-fifo');
    execFileSync('mkfifo', [join(volume.audit, 'audit-2026-03-02.log')]);
    const opening = AuditLog.open({ directory: volume.audit, keys: volume.key, now: () => day1 });
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the open hung on the FIFO')), 3000).unref());
    await assert.rejects(Promise.race([opening, timeout]), isIntegrity(/not a regular file/));
  });

  it('a FIFO as an older day file is a break found by verify, not a hang', async () => {
    const volume = await volumeWithOutsideFile('audit-fifo-old');
    execFileSync('mkfifo', [join(volume.audit, 'audit-2026-02-28.log')]);
    const log = await AuditLog.open({ directory: volume.audit, keys: volume.key, now: () => day1 });
    const verification = await log.verify();
    await log.close();
    assert.equal(verification.ok, false);
    assert.equal(!verification.ok && verification.break.kind, 'malformed');
  });

  it('a journal file linked outside the volume is refused at open, its torn "tail" neither copied nor cut', async () => {
    const volume = await volumeWithOutsideFile('journal-link');
    const state = join(volume.dir, 'volume', 'state');
    await mkdir(state);
    await symlink(volume.outside, join(state, 'state.log'));

    const opening = EncryptedJournal.open({ directory: state, file: 'state.log', purpose: 'state', keys: KeyRing.single(volume.key), parse: (value) => value });
    await assert.rejects(opening, isIntegrity(/symbolic link/));
    assert.equal(await readFile(volume.outside, 'utf8'), volume.secret);
    assert.deepEqual(await readdir(state), ['state.log']);
  });

  it('the export refuses a journal that is a FIFO instead of hanging, and one linked outside the volume', async () => {
    const volume = await volumeWithOutsideFile('export-fifo');
    const state = join(volume.dir, 'volume', 'state');
    await mkdir(state);
    execFileSync('mkfifo', [join(state, 'approvals.log')]);
    await symlink(volume.outside, join(state, 'state.log'));
    const keys = KeyRing.single(volume.key);
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the export hung on the FIFO')), 3000).unref());
    await assert.rejects(Promise.race([readJournalEvents(state, 'approvals.log', 'state', keys, (value) => value), timeout]), isIntegrity(/not a regular file/));
    await assert.rejects(readJournalEvents(state, 'state.log', 'state', keys, (value) => value), isIntegrity(/symbolic link/));
  });

  it('a new day file planted as a link is not appended through', async () => {
    const volume = await volumeWithOutsideFile('audit-append-link');
    let now = day1;
    const log = await AuditLog.open({ directory: volume.audit, keys: volume.key, now: () => now });
    await symlink(volume.outside, join(volume.audit, 'audit-2026-03-02.log'));
    now = new Date('2026-03-02T10:00:00Z');
    await assert.rejects(log.append(sendEntry(2)), (error: unknown) => error instanceof FleetError && error.code === 'unavailable');
    await log.close().catch(() => undefined);
    assert.equal(await readFile(volume.outside, 'utf8'), volume.secret);
  });
});

/** Opens and verifies the log in `directory` in a child process whose heap is far smaller than the file's line count would take as an array. */
async function openAndVerifyUnderSmallHeap(directory: string, key: Buffer): Promise<unknown> {
  const script = join(directory, '..', `verify-${randomBytes(4).toString('hex')}.ts`);
  await writeFile(
    script,
    [
      `import { AuditLog } from ${JSON.stringify(new URL('../../../agent-image/src/services/audit-log/audit-log.ts', import.meta.url).pathname)};`,
      `try {`,
      `  const log = await AuditLog.open({ directory: ${JSON.stringify(directory)}, keys: Buffer.from(${JSON.stringify(key.toString('hex'))}, 'hex') });`,
      `  const verification = await log.verify();`,
      `  await log.close();`,
      `  process.stdout.write(JSON.stringify(verification.ok ? { ok: true } : { ok: false, kind: verification.break.kind }));`,
      `} catch (error) {`,
      `  process.stdout.write(JSON.stringify({ refused: error.code }));`,
      `}`,
    ].join('\n'),
  );
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=24', script], { timeout: 60_000 });
  return JSON.parse(stdout);
}

describe('audit log: a file of very many short lines', () => {
  // 4 million empty lines: 4 MB on disk, far more than the child's heap once held as an array of lines.
  const manyLines = Buffer.alloc(4 * 1024 * 1024, 0x0a);

  async function logWithOneRecord(prefix: string): Promise<{ path: string; key: Buffer }> {
    const dir = await temporaryDirectory(prefix);
    cleanups.push(dir.remove);
    const path = join(dir.path, 'audit');
    const key = dataKey();
    const log = await AuditLog.open({ directory: path, keys: key, now: () => day1 });
    await log.append(sendEntry(1));
    await log.close();
    return { path, key };
  }

  it('as an older day file is read line by line: verify reports the break instead of running out of memory', async () => {
    const log = await logWithOneRecord('audit-many-lines-old');
    await writeFile(join(log.path, 'audit-2026-02-28.log'), manyLines);
    assert.deepEqual(await openAndVerifyUnderSmallHeap(log.path, log.key), { ok: false, kind: 'undecryptable' });
  });

  it('as the newest day file is read line by line: the open is refused as an integrity failure instead of running out of memory', async () => {
    const log = await logWithOneRecord('audit-many-lines-new');
    await writeFile(join(log.path, 'audit-2026-03-02.log'), manyLines);
    assert.deepEqual(await openAndVerifyUnderSmallHeap(log.path, log.key), { refused: 'integrity' });
  });
});

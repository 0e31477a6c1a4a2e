// The CLI's session file as something else put it there: a symlink, a FIFO, another user's file, a huge
// file. Each is refused with one readable line, never followed, waited on or read whole.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { readCliSession, sessionFile, writeCliSession } from '../../../orchestrator/src/cli/session-file.ts';

const session = () => ({
  member: 'alice',
  token: `fs1.${Math.random().toString(36).slice(2)}`,
  expiresAt: '2026-12-01T08:00:00.000Z',
});

const refusedBecause = (pattern: RegExp) => (error: unknown) =>
  isFleetError(error) && error.code === 'forbidden' && pattern.test(error.message);

describe('a session file that is not this user’s own regular file', () => {
  let home: string;
  let elsewhere: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-session-home-'));
    elsewhere = await mkdtemp(path.join(os.tmpdir(), 'fleet-session-elsewhere-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  });

  test('a symlink is refused, even to an owner-only session file', async () => {
    await writeCliSession(elsewhere, session());
    await rm(sessionFile(home), { force: true });
    await symlink(sessionFile(elsewhere), sessionFile(home));
    await assert.rejects(readCliSession(home), refusedBecause(/symbolic link/));
  });

  test('a FIFO is refused at once instead of hanging the command', async () => {
    await rm(sessionFile(home), { force: true });
    execFileSync('mkfifo', ['-m', '600', sessionFile(home)]);
    await assert.rejects(readCliSession(home), refusedBecause(/not a regular file/));
  });

  test('a file far larger than any session is refused unread', async () => {
    await rm(sessionFile(home), { force: true });
    await writeFile(sessionFile(home), ' '.repeat(1024 * 1024), { mode: 0o600 });
    await assert.rejects(readCliSession(home), refusedBecause(/too large/));
  });

  test(
    'another user’s owner-only file is refused',
    { skip: process.getuid?.() !== 0 && 'needs root to give a file away' },
    async () => {
      await rm(sessionFile(home), { force: true });
      await writeCliSession(home, session());
      await chown(sessionFile(home), 4242, 4242);
      await assert.rejects(readCliSession(home), refusedBecause(/another user/));
    },
  );
});

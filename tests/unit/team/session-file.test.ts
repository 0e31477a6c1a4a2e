import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  readCliSession,
  removeCliSession,
  sessionFile,
  writeCliSession,
} from '../../../orchestrator/src/cli/session-file.ts';

describe('the CLI’s session file', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-session-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('is written owner-only and read back; none before sign-in and after sign-out', async () => {
    assert.equal(await readCliSession(home), null);
    const session = { member: 'alice', token: 'fs1.token', expiresAt: '2026-12-01T08:00:00.000Z' };
    await writeCliSession(home, session);
    assert.equal((await stat(sessionFile(home))).mode & 0o777, 0o600);
    assert.deepEqual(await readCliSession(home), session);
    await removeCliSession(home);
    assert.equal(await readCliSession(home), null);
  });

  test('a session file others can read is refused, not used', async () => {
    await writeCliSession(home, {
      member: 'alice',
      token: 'fs1.token',
      expiresAt: '2026-12-01T08:00:00.000Z',
    });
    await chmod(sessionFile(home), 0o644);
    await assert.rejects(
      readCliSession(home),
      (error: unknown) =>
        isFleetError(error) && error.code === 'forbidden' && /readable by others/.test(error.message),
    );
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { holdHome, homeLockName } from '../../../orchestrator/src/adapters/process/home-lock.ts';

describe('holdHome: one orchestrator service per fleet home', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'home-lock-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  test('a second hold of the same home is refused with conflict until the first is released', async () => {
    const first = await holdHome(home);
    await assert.rejects(holdHome(home), (error) => isFleetError(error) && error.code === 'conflict' && /already using/.test(error.message));
    await first.release();
    const again = await holdHome(home);
    await again.release();
  });

  test('the same home reached through a symlink is the same lock; another home is not', async () => {
    const link = path.join(os.tmpdir(), `home-lock-link-${process.pid}`);
    await symlink(home, link);
    const other = await mkdtemp(path.join(os.tmpdir(), 'home-lock-other-'));
    try {
      const first = await holdHome(home);
      await assert.rejects(holdHome(link), (error) => isFleetError(error) && error.code === 'conflict');
      const elsewhere = await holdHome(other);
      await elsewhere.release();
      await first.release();
    } finally {
      await rm(link, { force: true });
      await rm(other, { recursive: true, force: true });
    }
  });

  test('the name is in the abstract namespace and derived from the path alone', () => {
    assert.equal(homeLockName('/srv/fleet')[0], '\0');
    assert.equal(homeLockName('/srv/fleet'), homeLockName('/srv/fleet'));
    assert.notEqual(homeLockName('/srv/fleet'), homeLockName('/srv/fleet2'));
  });

  test('a home that does not exist is an error, not a lock on nothing', async () => {
    await assert.rejects(holdHome(path.join(home, 'missing')), /ENOENT/);
  });
});

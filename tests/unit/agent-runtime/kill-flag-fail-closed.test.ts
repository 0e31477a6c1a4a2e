// The kill flag fails closed: whatever is at its path (a file of any content, a directory, a symlink
// leading nowhere) means killed, for a fresh agent (a restart) and for a running one that checks again.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { killFlagVolumes } from './kill-flag-volumes.ts';

describe('a kill flag that is not the file the agent writes', () => {
  const volumes = killFlagVolumes('kill-flag-closed-');

  const killedOnes: Array<[string, (path: string) => Promise<void>]> = [
    ['an empty file', (path) => writeFile(path, '')],
    ['a file that is not JSON', (path) => writeFile(path, '\u0000garbage{')],
    ['a directory', (path) => mkdir(path)],
    ['a symlink that leads nowhere', (path) => symlink(join(volumes.dir, 'no-such-target'), path)],
    ['a symlink to a symlink loop', async (path) => {
      await symlink(`${path}.loop`, `${path}.loop2`);
      await symlink(`${path}.loop2`, `${path}.loop`);
      await symlink(`${path}.loop`, path);
    }],
  ];
  for (const [what, place] of killedOnes) {
    test(`${what} at the flag's path means killed, at start and while running`, async () => {
      const path = await volumes.fresh();
      const running = new KillSwitch(path);
      assert.equal(running.killed, false);
      await place(path);
      assert.equal(new KillSwitch(path).killed, true, 'a restarted agent is killed');
      assert.throws(() => running.assertAlive('send'), (error: unknown) => error instanceof FleetError && error.code === 'killed');
    });
  }

  test("the orchestrator's placed flag fails closed too, and a revive refuses while it is there", async () => {
    const path = await volumes.fresh();
    const placedDir = join(volumes.dir, 'placed');
    await mkdir(placedDir);
    const placed = join(placedDir, KILL_FLAG_FILE);
    // A ConfigMap key is a symlink into ..data; one whose target is gone still counts.
    await symlink(join(placedDir, '..data', KILL_FLAG_FILE), placed);
    const killSwitch = new KillSwitch(path, [placed]);
    assert.equal(killSwitch.killed, true);
    await assert.rejects(killSwitch.release(), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
    assert.equal(killSwitch.killed, true);
  });

  test('no flag at all is not a kill', async () => {
    const path = await volumes.fresh();
    assert.equal(new KillSwitch(path, [join(volumes.dir, 'no-placed-dir', KILL_FLAG_FILE)]).killed, false);
  });
});

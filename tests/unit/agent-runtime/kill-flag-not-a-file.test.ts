// Something other than the flag file at the kill flag's path (a directory, a FIFO) keeps the agent
// killed: a revive is refused with an integrity error naming the path (not a raw EISDIR), what is there
// stays, and a kill still latches and says clearly why it could not record who killed and why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { killFlagVolumes } from './kill-flag-volumes.ts';

describe('a kill flag path that holds no flag file', () => {
  const volumes = killFlagVolumes('kill-flag-not-a-file-');

  const refusal = (path: string) => (error: unknown) =>
    error instanceof FleetError && error.code === 'integrity' && error.message.includes(path) && /stays killed/.test(error.message);

  const planted: Array<[string, (path: string) => Promise<void>]> = [
    ['a directory', (path) => mkdir(path)],
    ['a directory with files in it', async (path) => {
      await mkdir(join(path, 'inside'), { recursive: true });
    }],
    ['a FIFO', async (path) => {
      execFileSync('mkfifo', [path]);
    }],
  ];
  for (const [what, place] of planted) {
    test(`a revive with ${what} at the flag's path is refused by name and the agent stays killed`, async () => {
      const path = await volumes.fresh();
      await place(path);
      const killSwitch = new KillSwitch(path);
      assert.equal(killSwitch.killed, true);
      await assert.rejects(killSwitch.release(killSwitch.generation), refusal(path));
      assert.equal(killSwitch.killed, true);
      assert.throws(() => killSwitch.assertAlive('send'), (error: unknown) => error instanceof FleetError && error.code === 'killed');
      await lstat(path);
    });
  }

  test('a kill with a directory at the flag path latches, and its error names the path', async () => {
    const path = await volumes.fresh();
    await mkdir(path);
    const killSwitch = new KillSwitch(path);
    await assert.rejects(
      killSwitch.engage({ at: new Date('2026-12-07T10:00:00.000Z'), by: 'ops', reason: 'compromised' }),
      (error: unknown) => error instanceof FleetError && error.code === 'integrity' && error.message.includes(path),
    );
    assert.equal(killSwitch.killed, true);
    assert.equal(new KillSwitch(path).killed, true, 'a restarted agent is killed');
  });
});

// A kill that lands while a revive runs (the revive holds what the first kill stopped before it releases
// the switch) is a new kill: the revive must not release it. It fails, and the latch and the flag file
// stay, so a restarted agent is still killed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';

describe('a kill and a revive at the same time', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kill-revive-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a kill during the revive stays engaged: the revive fails, the flag stays, a restarted agent is killed', async () => {
    const path = join(dir, `a-${KILL_FLAG_FILE}`);
    const killSwitch = new KillSwitch(path);
    await killSwitch.engage({ at: new Date(), by: 'ops', reason: 'first incident' });
    const seen = killSwitch.generation;
    // The revive holds what the first kill stopped; meanwhile a second kill comes in.
    killSwitch.latch();
    await killSwitch.engage({ at: new Date(), by: 'oncall', reason: 'still wrong' });
    await assert.rejects(killSwitch.release(seen), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
    assert.equal(killSwitch.killed, true);
    assert.ok(existsSync(path), 'the flag file is still there');
    assert.equal(new KillSwitch(path).killed, true, 'a restarted agent is killed');
  });

  test('a kill arriving as the release starts is not undone by it', async () => {
    const path = join(dir, `b-${KILL_FLAG_FILE}`);
    const killSwitch = new KillSwitch(path);
    await killSwitch.engage({ at: new Date(), by: 'ops', reason: 'first incident' });
    const released = killSwitch.release(killSwitch.generation);
    const killed = killSwitch.engage({ at: new Date(), by: 'oncall', reason: 'again' });
    await assert.rejects(released, (error: unknown) => error instanceof FleetError && error.code === 'conflict');
    await killed;
    assert.equal(killSwitch.killed, true);
    assert.equal(new KillSwitch(path).killed, true, 'the flag of the second kill is on disk');
  });

  test('without a kill meanwhile the revive releases: latch and flag gone', async () => {
    const path = join(dir, `c-${KILL_FLAG_FILE}`);
    const killSwitch = new KillSwitch(path);
    await killSwitch.engage({ at: new Date(), by: 'ops', reason: 'drill' });
    await killSwitch.release(killSwitch.generation);
    assert.equal(killSwitch.killed, false);
    assert.equal(existsSync(path), false);
  });
});

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KILL_FLAG_FILE, killFlagContent, type KillFlag } from '@agent-fleet/kernel/kill-flag';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';

describe('the kill flag, whoever writes it', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kill-flag-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("the agent writes the orchestrator's format: killed, at, by, reason", async () => {
    const path = join(dir, 'engaged', KILL_FLAG_FILE);
    await mkdir(join(dir, 'engaged'));
    const at = new Date('2026-12-05T10:00:00.000Z');
    const killSwitch = new KillSwitch(path);
    await killSwitch.engage({ at, by: 'ops', reason: 'compromised' });
    const written = await readFile(path, 'utf8');
    assert.equal(written, killFlagContent({ at, by: 'ops', reason: 'compromised' }));
    assert.deepEqual(JSON.parse(written) as KillFlag, { killed: true, at: '2026-12-05T10:00:00.000Z', by: 'ops', reason: 'compromised' });
    assert.equal(killSwitch.killed, true);
  });

  test('a flag the orchestrator placed is obeyed by a fresh agent until released', async () => {
    const path = join(dir, KILL_FLAG_FILE);
    await writeFile(path, killFlagContent({ at: new Date(), by: 'restore', reason: 'restored while killed' }));
    const killSwitch = new KillSwitch(path);
    assert.equal(killSwitch.killed, true);
    assert.throws(() => killSwitch.assertAlive('send'), /kill switch is engaged/);
    await killSwitch.release();
    assert.equal(killSwitch.killed, false);
    await assert.rejects(readFile(path), { code: 'ENOENT' });
  });
});

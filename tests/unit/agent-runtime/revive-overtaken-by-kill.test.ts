// A kill that lands while a revive reconnects the mailbox stands: the revive is not reported as done, the
// agent stays killed (latch, flag file, status), and a restarted agent is killed too.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { dataDirectories } from '../../helpers/agent-volume.ts';
import { introducedRuntime } from './introduced-runtime.ts';

const freshDataDir = dataDirectories('revive-overtaken-');

describe('a revive overtaken by a new kill', () => {
  test('a kill during the revive’s reconnect: the revive fails with conflict and the agent stays killed', async () => {
    const dataDir = await freshDataDir();
    let duringConnect: (() => Promise<void>) | null = null;
    const runtime = await introducedRuntime(dataDir, async () => {
      await duringConnect?.();
    });
    try {
      await runtime.killAgent('wrong recipients', 'admin:boss');
      // The second admin pulls the switch again while the revive rebuilds the connection.
      duringConnect = async () => {
        duringConnect = null;
        await runtime.killAgent('still wrong', 'admin:oncall');
      };
      await assert.rejects(runtime.revive('fixed', 'admin:boss'), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
      assert.equal(runtime.status().killed, true);
      assert.ok(existsSync(join(dataDir, KILL_FLAG_FILE)), 'the second kill’s flag is on disk');
      assert.equal(new KillSwitch(join(dataDir, KILL_FLAG_FILE)).killed, true, 'a restarted agent is killed');
    } finally {
      await runtime.stop();
    }
  });
});

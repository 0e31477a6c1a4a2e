// The orchestrator service read its settings at top level and let a refusal escape: a bad setting ended it
// with an uncaught stack trace and the internal-error status. It now prints the refusal alone and exits
// with the usage status, before it creates, opens or listens on anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';

const MAIN = path.resolve(import.meta.dirname, '../../../orchestrator/src/main.ts');

describe('orchestrator service with a bad configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-main-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('is refused with the message alone on stderr and exit 2, before anything starts', () => {
    const home = path.join(dir, 'home');
    const run = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env['PATH'] ?? '', AGENT_FLEET_HOME: home, ORCHESTRATOR_PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    assert.equal(run.signal, null, 'the service ended by itself');
    assert.equal(run.status, EXIT_CODES.invalid_input, run.stderr);
    assert.match(run.stderr, /^orchestrator: invalid orchestrator configuration:\n {2}ORCHESTRATOR_PORT: /);
    assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
    assert.equal(run.stdout, '');
    assert.equal(existsSync(home), false, 'the home was never created: nothing started');
  });
});

// `fleet config rollback` without --base started from whatever version was in force when it ran: a guard
// rail confirmed by id then also covered changes made since, which the operator never saw.
import assert from 'node:assert/strict';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { runCli } from '../../../orchestrator/src/cli/program.ts';

/**
 * Runs `fleet …` in process. The environment is invalid on purpose (ORCHESTRATOR_PORT), so a command that
 * got past its own checks fails on loading the config (exit 1) and can never reach or start a service.
 */
async function fleet(...args: string[]): Promise<{ status: number; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  stdout.resume();
  const status = await runCli(['node', 'fleet', ...args], {
    env: { AGENT_FLEET_HOME: os.tmpdir(), ORCHESTRATOR_PORT: 'not-a-port' },
    stdout,
    stderr,
  });
  return { status, err };
}

describe('fleet config rollback', () => {
  test('without --base it is refused before the service is reached, naming how to find the version in force', async () => {
    const { status, err } = await fleet('config', 'rollback', 'acme', '--to', '3', '--reason', 'undo', '--confirm', 'permissions.send');
    assert.equal(status, EXIT_CODES.invalid_input);
    assert.match(err, /fleet config show acme/);
    assert.match(err, /--base N/);
  });

  test('a --base that is not a whole number is refused', async () => {
    const { status, err } = await fleet('config', 'rollback', 'acme', '--to', '3', '--reason', 'undo', '--base', '0x5');
    assert.equal(status, EXIT_CODES.invalid_input);
    assert.match(err, /--base must be a whole number/);
  });

  test('with --base it gets past its own checks (and stops at the invalid environment)', async () => {
    const { status } = await fleet('config', 'rollback', 'acme', '--to', '3', '--reason', 'undo', '--base', '7');
    assert.notEqual(status, EXIT_CODES.invalid_input);
  });
});

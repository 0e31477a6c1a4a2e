// A start that failed after the settings were read (a refused Vault token file inside createOrchestrator, a
// home that cannot be made) escaped main.ts's top-level await: Node printed the error's stack as an
// unhandled rejection and exited 1, whatever the failure. It now ends with one plain line on stderr, the
// status of the failure's code, and the failure once in the structured log.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';

const MAIN = path.resolve(import.meta.dirname, '../../../orchestrator/src/main.ts');

function startService(env: Record<string, string>): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', ORCHESTRATOR_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
}

/** The structured log's lines (stdout), parsed. */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('orchestrator service start-up failures', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-startup-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a refused Vault token file ends the start with its message alone on stderr and the usage status', { timeout: 150_000 }, async () => {
    const tokenDir = path.join(dir, 'token-is-a-directory');
    await mkdir(tokenDir);
    const run = startService({
      AGENT_FLEET_HOME: path.join(dir, 'home-vault'),
      VAULT_ADDR: 'https://127.0.0.1:1',
      VAULT_TOKEN_FILE: tokenDir,
      FLEET_AGENT_EGRESS: 'open',
    });
    assert.equal(run.signal, null, 'the service ended by itself');
    assert.equal(run.status, EXIT_CODES.invalid_input, run.stderr);
    assert.equal(run.stderr, `orchestrator: the service will not start: ${tokenDir} (VAULT_TOKEN_FILE) is not a regular file\n`);
    const failures = logLines(run.stdout).filter((line) => line['level'] === 'error');
    assert.equal(failures.length, 1, run.stdout);
    assert.equal(failures[0]?.['message'], 'the orchestrator service will not start');
    assert.equal((failures[0]?.['error'] as { code?: unknown } | undefined)?.code, 'invalid_input');
    assert.equal(failures[0]?.['stack'], undefined, 'a refusal is no bug: no stack');
  });

  test('a home that cannot be made ends the start with a plain line and the status of a failed system call', async () => {
    const notADirectory = path.join(dir, 'a-file');
    await writeFile(notADirectory, '');
    const run = startService({ AGENT_FLEET_HOME: path.join(notADirectory, 'home') });
    assert.equal(run.signal, null, 'the service ended by itself');
    assert.equal(run.status, EXIT_CODES.unavailable, run.stderr);
    assert.match(run.stderr, /^orchestrator: the service will not start: ENOTDIR: .*\n$/);
    assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
    assert.ok(logLines(run.stdout).some((line) => line['message'] === 'the orchestrator service will not start'), run.stdout);
  });
});

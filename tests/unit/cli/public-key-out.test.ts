// `fleet export public-key --out <file>`: `--out ""` (an unset shell variable) printed the key instead of
// writing the file the operator named, without a word; an existing file failed only after the service was
// started, as a raw EEXIST with the internal-error status. Both are now usage errors before the service.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { runFleetCliWithEnv, type FleetCliRun } from '../../helpers/fleet-cli.ts';

/** `fleet …` in process, with an invalid setting: a command past its own checks fails on the config (exit 1). */
function fleet(...args: string[]): Promise<FleetCliRun> {
  return runFleetCliWithEnv({ AGENT_FLEET_HOME: os.tmpdir(), ORCHESTRATOR_PORT: 'not-a-port' }, ...args);
}

describe('export public-key --out', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-public-key-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('an empty --out is refused before the service is reached, not read as "print it"', async () => {
    for (const out of ['', '  ']) {
      const result = await fleet('export', 'public-key', '--out', out);
      assert.equal(result.code, EXIT_CODES.invalid_input, result.err);
      assert.match(result.err, /--out names no file/);
      assert.equal(result.out, '');
    }
  });

  test('an existing file is a conflict named before the service is reached, and is left as it was', async () => {
    const existing = path.join(dir, 'fleet-export.pem');
    await writeFile(existing, 'kept');
    const result = await fleet('export', 'public-key', '--out', existing);
    assert.equal(result.code, EXIT_CODES.conflict, result.err);
    assert.match(result.err, /fleet-export\.pem already exists: choose another file name/);
    assert.equal(await readFile(existing, 'utf8'), 'kept');
  });
});

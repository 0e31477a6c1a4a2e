// The orchestrator's systemd unit as systemd itself reads it: `systemd-analyze verify` on the unit that
// `make service-install` writes (rendered for this checkout), which fails on unknown directives, a relative
// or missing ExecStart binary and other mistakes systemd would otherwise report only at boot.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { renderSystemdUnit } from '../../scripts/systemd-unit.ts';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function verify(unitPath: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', unitPath], { timeout: 30_000 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('systemd-analyze verify on the orchestrator unit', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-unit-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the unit rendered for this checkout verifies cleanly', async () => {
    const unitPath = path.join(dir, 'agent-fleet.service');
    await writeFile(unitPath, renderSystemdUnit({ repoDir: REPO_ROOT, homeDir: dir, environmentFile: '/etc/agent-fleet/env' }));
    const result = await verify(unitPath);
    assert.equal(result.ok, true, result.output);
    assert.doesNotMatch(result.output, /Unknown key|not executable|is not absolute/, result.output);
  });

  test('the same check fails when the service binary is not there (the check can fail)', async () => {
    const unitPath = path.join(dir, 'agent-fleet-missing.service');
    await writeFile(unitPath, renderSystemdUnit({ repoDir: path.join(dir, 'no-checkout'), homeDir: dir, environmentFile: '/etc/agent-fleet/env' }));
    const result = await verify(unitPath);
    assert.equal(result.ok, false, result.output);
    assert.match(result.output, /node_modules\/\.bin\/node/);
  });
});

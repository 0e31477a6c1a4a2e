import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { createFleetFixture, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { signInForCli } from '../../helpers/team-session.ts';
import { REPO_ROOT } from './helm.ts';

const CLI = path.join(REPO_ROOT, 'orchestrator/src/cli/main.ts');

/** The environment of this process without any fleet setting, so only what a test sets applies. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(FLEET_|VAULT_|AGENT_|ORCHESTRATOR_|DATABASE_URL|KUBECONFIG)/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

function fleetCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('fleet provision --runtime against an orchestrator running docker', () => {
  let fleet: FleetFixture;
  let server: Server;

  before(async () => {
    fleet = await createFleetFixture();
    server = await listenUnixSocket(createSocketApp(fleet.orchestrator, createSilentLogger()), fleet.config.api.socketPath);
    await signInForCli(fleet.orchestrator, fleet.homeDir);
  });

  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await fleet?.cleanup([]);
  });

  test('a mismatched --runtime is refused with the conflict exit code and the way to get that runtime', async () => {
    const clientId = uniqueClientId('r');
    const result = await fleetCli(['provision', clientId, '--runtime', 'kubernetes'], cleanEnv({ AGENT_FLEET_HOME: fleet.homeDir }));
    assert.equal(result.code, EXIT_CODES.conflict);
    assert.match(result.stderr, /this orchestrator runs agents on docker; restart it with FLEET_RUNTIME=kubernetes/);
    assert.equal(await fleet.orchestrator.registry.getClient(clientId), null, 'nothing was provisioned');
  });

  test('an unknown --runtime is invalid input, refused by the CLI', async () => {
    const result = await fleetCli(['provision', uniqueClientId('r'), '--runtime', 'podman'], cleanEnv({ AGENT_FLEET_HOME: fleet.homeDir }));
    assert.equal(result.code, EXIT_CODES.invalid_input);
    assert.match(result.stderr, /--runtime must be docker or kubernetes/);
  });
});

describe('fleet provision --runtime with no orchestrator running', () => {
  test('--runtime kubernetes without VAULT_ADDR is one clear line and starts no service', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'fleet-cli-'));
    try {
      const result = await fleetCli(['provision', uniqueClientId('r'), '--runtime', 'kubernetes'], cleanEnv({ AGENT_FLEET_HOME: home }));
      assert.equal(result.code, EXIT_CODES.invalid_input);
      assert.match(result.stderr, /VAULT_ADDR: is required with FLEET_RUNTIME=kubernetes/);
      assert.equal(existsSync(path.join(home, 'orchestrator.pid')), false, 'no service was started');
      assert.equal(existsSync(path.join(home, 'orchestrator.sock')), false);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

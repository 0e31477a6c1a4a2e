import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAgentEnv } from '../../../agent-image/src/config.ts';
import { runtimePaths } from '../../../agent-image/src/services/runtime/runtime-paths.ts';

// The agent side of the Kubernetes runtime: the chart sets these two variables (charts/fleet-agent).

void test('without AGENT_PLACED_FILES_DIR and AGENT_VAULT_SINK_FILE the agent keeps the Docker layout', () => {
  const env = loadAgentEnv({});
  assert.equal(env.AGENT_PLACED_FILES_DIR, undefined);
  assert.equal(env.AGENT_VAULT_SINK_FILE, undefined);
  const paths = runtimePaths('/data', { placedFilesDir: env.AGENT_PLACED_FILES_DIR, vaultSinkFile: env.AGENT_VAULT_SINK_FILE });
  assert.equal(paths.placedKillFlag, null);
  assert.equal(paths.vaultSinkFile, null);
  assert.equal(paths.wrappedKey, '/data/keys/data-key.wrapped');
});

void test('the chart values are read, and the placed KILLED flag counts as a kill next to the volume one', () => {
  const env = loadAgentEnv({ AGENT_PLACED_FILES_DIR: '/etc/agent-fleet-files', AGENT_VAULT_SINK_FILE: '/vault/secrets/token' });
  assert.equal(env.AGENT_PLACED_FILES_DIR, '/etc/agent-fleet-files');
  assert.equal(env.AGENT_VAULT_SINK_FILE, '/vault/secrets/token');
  const paths = runtimePaths('/data', { placedFilesDir: env.AGENT_PLACED_FILES_DIR, vaultSinkFile: env.AGENT_VAULT_SINK_FILE });
  assert.equal(paths.killFlag, '/data/KILLED', 'the agent still writes its own flag in its writable volume');
  assert.equal(paths.placedKillFlag, '/etc/agent-fleet-files/KILLED');
  assert.equal(paths.vaultSinkFile, '/vault/secrets/token');
});

void test('relative paths are refused, each naming its variable', () => {
  assert.throws(
    () => loadAgentEnv({ AGENT_PLACED_FILES_DIR: 'etc/files', AGENT_VAULT_SINK_FILE: '../token' }),
    (error: unknown) =>
      /AGENT_PLACED_FILES_DIR: must be an absolute path/.test((error as Error).message) &&
      /AGENT_VAULT_SINK_FILE: must be an absolute path/.test((error as Error).message),
  );
});

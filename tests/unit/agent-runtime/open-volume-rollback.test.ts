// openVolume is all or nothing: a failure at any step of the open closes what the steps before it
// opened, so no journal file of the volume is left held open by a volume nobody will close.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { closeVolume } from '../../../agent-image/src/services/runtime/close-volume.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { openVolume, type OpenVolumeInput } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { runtimePaths } from '../../../agent-image/src/services/runtime/runtime-paths.ts';
import { LiveSettings } from '../../../agent-image/src/services/settings/settings-source.ts';
import { MemoryVault, VaultBackedSource } from '../journal-anchor/agent-bed.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const NOW = new Date('2026-12-07T09:00:00Z');

/** The files of `directory` this process holds open (Linux: /proc/self/fd). */
async function heldOpenUnder(directory: string): Promise<string[]> {
  const held: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target.startsWith(directory)) held.push(target);
  }
  return held;
}

async function volume() {
  const dataDir = await mkdtemp(join(tmpdir(), 'open-volume-rollback-'));
  directories.push(dataDir);
  const parsed = parseClientConfig({ client: 'acme', admins: ['dana@acme.example'] });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  const config = parsed.config;
  const vault = new MemoryVault();
  const key = randomBytes(32);
  const paths = runtimePaths(dataDir);
  /** The open's input; `now` fails at its `failAt`-th reading (every step of the open reads the clock). */
  const input = (failAt = Number.POSITIVE_INFINITY): OpenVolumeInput & { source: VaultBackedSource } => {
    let readings = 0;
    return {
      source: new VaultBackedSource(vault, key),
      config,
      paths,
      settings: new LiveSettings(config),
      kill: new KillSwitch(paths.killFlag),
      metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
      logger: createSilentLogger(),
      now: () => {
        readings++;
        if (readings === failAt) throw new FleetError('internal', `injected failure at clock reading ${readings}`);
        return NOW;
      },
      connectors: async () => ({ missing: ['gmail'] }),
      onConnected: () => undefined,
      anchorRetry: { attempts: 1, delayMs: 1 },
      anchorIntervalMs: 60_000,
    };
  };
  return { dataDir, vault, input };
}

describe('openVolume is all or nothing', () => {
  test('a failure at any step of the open leaves no file of the volume open, and the volume opens afterwards', async () => {
    let failures = 0;
    for (let failAt = 1; ; failAt++) {
      assert.ok(failAt < 1000, 'the open reads the clock a bounded number of times');
      // A new volume each time: its first open writes every part (the settings version and its audit record).
      const { dataDir, input } = await volume();
      let outcome;
      try {
        outcome = await openVolume(input(failAt));
      } catch (error) {
        assert.match((error as Error).message, /injected failure/);
        failures++;
        assert.deepEqual(await heldOpenUnder(dataDir), [], `nothing left open after a failure at clock reading ${failAt}`);
        const retried = await openVolume(input());
        assert.ok(retried.ok, `the volume opens after a failure at clock reading ${failAt}`);
        await closeVolume(retried.agent);
        assert.deepEqual(await heldOpenUnder(dataDir), []);
        continue;
      }
      // Past the last reading: the open succeeded, and closes whole.
      assert.ok(outcome.ok);
      await closeVolume(outcome.agent);
      assert.deepEqual(await heldOpenUnder(dataDir), []);
      break;
    }
    assert.ok(failures > 3, `failures were injected into several steps (${failures})`);
  });

  test('a refused volume (its anchor unreadable) and a Vault that fails the first record both leave nothing open', async () => {
    const { dataDir, vault, input } = await volume();
    const first = await openVolume(input());
    assert.ok(first.ok);
    await closeVolume(first.agent);

    const failingWrite = input();
    failingWrite.source.writeSecret = async () => {
      throw new FleetError('unavailable', 'vault: write secret failed: connection refused', { retryable: true });
    };
    await assert.rejects(openVolume(failingWrite), /record the journal heads/);
    assert.deepEqual(await heldOpenUnder(dataDir), []);

    for (const [name, value] of vault.kv) vault.kv.set(name, `${value.slice(0, 10)}!not-an-anchor`);
    const refused = await openVolume(input());
    assert.equal(refused.ok, false);
    assert.deepEqual(await heldOpenUnder(dataDir), []);
  });
});

// openVolume is all or nothing: a failure at any step of the open closes what the steps before it
// opened, so no journal file of the volume is left held open by a volume nobody will close.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { closeVolume } from '../../../agent-image/src/services/runtime/close-volume.ts';
import { openVolume, type OpenVolumeInput } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { acmeConfig, dataDirectories, heldOpenUnder, volumeInputUnder } from '../../helpers/agent-volume.ts';
import { MemoryVault, VaultBackedSource } from '../journal-anchor/agent-bed.ts';

const freshDataDir = dataDirectories('open-volume-rollback-');

const NOW = new Date('2026-12-07T09:00:00Z');

async function volume() {
  const dataDir = await freshDataDir();
  const config = acmeConfig();
  const vault = new MemoryVault();
  const key = randomBytes(32);
  /** The open's input; `now` fails at its `failAt`-th reading (every step of the open reads the clock). */
  const input = (failAt = Number.POSITIVE_INFINITY): OpenVolumeInput & { source: VaultBackedSource } => {
    let readings = 0;
    return {
      ...volumeInputUnder(dataDir, config),
      source: new VaultBackedSource(vault, key),
      now: () => {
        readings++;
        if (readings === failAt) throw new FleetError('internal', `injected failure at clock reading ${readings}`);
        return NOW;
      },
      anchorRetry: { attempts: 1, delayMs: 1 },
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

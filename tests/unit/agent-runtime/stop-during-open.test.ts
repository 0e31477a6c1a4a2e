// A stop (SIGTERM) that comes while the first introduction is still opening the volume: the stop waits for
// the open, which closes what it opened and revokes its token; the agent never turns ready after a stop.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';
import { acmeConfig, dataDirectories, heldOpenUnder } from '../../helpers/agent-volume.ts';
import { MemoryVault, VaultBackedSource } from '../journal-anchor/agent-bed.ts';

const freshDataDir = dataDirectories('stop-during-open-');

/** A promise the test resolves, and one that says the gated call was reached. */
function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const hit = new Promise<void>((resolve) => (reached = resolve));
  return { opened, hit, open, reached };
}

/** An agent whose introduction waits at `where`: its token's start, the first record of its heads in Vault, or the mailbox connection. */
async function agentHeldAt(where: 'start' | 'anchor' | 'connect') {
  const dataDir = await freshDataDir();
  const held = gate();
  const vault = new MemoryVault();
  const key = randomBytes(32);
  const sources: VaultBackedSource[] = [];
  const runtime = new AgentRuntime({
    config: acmeConfig(),
    dataDir,
    logger: createSilentLogger(),
    metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
    vaultAddr: 'https://127.0.0.1:8200',
    secretSource: () => {
      const source = new VaultBackedSource(vault, key);
      if (where === 'start') {
        source.start = async () => {
          held.reached();
          await held.opened;
        };
      }
      if (where === 'anchor') {
        const write = source.writeSecret.bind(source);
        source.writeSecret = async (name, value) => {
          held.reached();
          await held.opened;
          await write(name, value);
        };
      }
      sources.push(source);
      return source;
    },
    connectors: async () => {
      if (where === 'connect') {
        held.reached();
        await held.opened;
      }
      return { missing: ['gmail'] };
    },
    syncIntervalMs: 0,
    sweepIntervalMs: 0,
    scheduleSummary: false,
    watchCheckIntervalMs: 0,
  });
  return { runtime, dataDir, held, sources };
}

describe('a stop during the open', () => {
  for (const where of ['anchor', 'connect'] as const) {
    test(`waits for the open (held at ${where}), which closes the volume and revokes its token; the agent stays stopped`, async () => {
      const { runtime, dataDir, held, sources } = await agentHeldAt(where);
      const introduced = runtime.introduce({ wrappingToken: `wrap-${randomBytes(4).toString('hex')}`, creationPath: 'auth/token/create/fleet-acme' });
      introduced.catch(() => undefined);
      await held.hit;
      const stopped = runtime.stop();
      held.open();
      await stopped;
      assert.equal(sources.length, 1);
      assert.equal(sources[0]?.stopped, true, 'the token of the open cut short is revoked by the time stop returns');
      assert.deepEqual(await heldOpenUnder(dataDir), [], 'no journal of the volume is left open');
      await assert.rejects(introduced, /stop/);
      assert.equal(runtime.lifecycle, 'stopped');
      assert.equal(runtime.readiness().ready, false);
      assert.throws(() => runtime.listApprovals(), /not introduced/);
    });
  }

  test('an introduction whose token was still starting when the stop began does not open the volume, and its token is revoked before the stop returns', async () => {
    const { runtime, dataDir, held, sources } = await agentHeldAt('start');
    const introduced = runtime.introduce({ wrappingToken: `wrap-${randomBytes(4).toString('hex')}`, creationPath: 'auth/token/create/fleet-acme' });
    introduced.catch(() => undefined);
    await held.hit;
    let stopReturned = false;
    const stopped = runtime.stop().then(() => (stopReturned = true));
    // The stop's other waits are over long before this: it is the starting token it waits for.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopReturned, false, 'the stop waits for the token still starting');
    held.open();
    await stopped;
    // main.ts exits as soon as the stop returns: the revocation must be done by then, not after.
    assert.equal(sources[0]?.stopped, true, 'the started token is revoked by the time the stop returns');
    await assert.rejects(introduced, /stopping/);
    assert.equal(runtime.lifecycle, 'stopped');
    assert.deepEqual(await heldOpenUnder(dataDir), []);
    assert.throws(() => runtime.listApprovals(), /not introduced/);
  });

  test('a token that never finishes starting holds the stop up only for its bound', async () => {
    const { runtime, held } = await agentHeldAt('start');
    const introduced = runtime.introduce({ wrappingToken: `wrap-${randomBytes(4).toString('hex')}`, creationPath: 'auth/token/create/fleet-acme' });
    introduced.catch(() => undefined);
    await held.hit;
    await runtime.stop({ introductionWaitMs: 20 });
    assert.equal(runtime.lifecycle, 'stopped');
    held.open();
    await assert.rejects(introduced, /stopping/);
  });
});

// closeVolume: every part closed after the writes it waits for, the heads recorded once the last append is
// durable and before the token goes, and a second close a no-op rather than an error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { JOURNAL_ANCHOR_SECRET, parseAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { closeVolume } from '../../../agent-image/src/services/runtime/close-volume.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { openVolume } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { runtimePaths } from '../../../agent-image/src/services/runtime/runtime-paths.ts';
import { LiveSettings } from '../../../agent-image/src/services/settings/settings-source.ts';
import { MemoryVault, VaultBackedSource } from '../journal-anchor/agent-bed.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function heldOpenUnder(directory: string): Promise<string[]> {
  const held: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target.startsWith(directory)) held.push(target);
  }
  return held;
}

describe('closeVolume', () => {
  test('records the heads of appends still in flight at close, revokes the token last, and a second close does nothing', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'close-volume-'));
    directories.push(dataDir);
    const parsed = parseClientConfig({ client: 'acme', admins: ['dana@acme.example'] });
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    const vault = new MemoryVault();
    const source = new VaultBackedSource(vault, randomBytes(32));
    const paths = runtimePaths(dataDir);
    const outcome = await openVolume({
      source,
      config: parsed.config,
      paths,
      settings: new LiveSettings(parsed.config),
      kill: new KillSwitch(paths.killFlag),
      metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
      logger: createSilentLogger(),
      now: () => new Date(),
      connectors: async () => ({ missing: ['gmail'] }),
      onConnected: () => undefined,
      anchorIntervalMs: 60_000,
    });
    assert.ok(outcome.ok);
    const { agent } = outcome;
    // Not awaited: the close waits for them, and records the head they end at.
    const appends = Array.from({ length: 5 }, (_, n) => agent.audit.append({ actor: 'agent', action_type: 'pause', target: 'test', parameters: { n }, result: 'success', approval_status: 'not_required', approved_by: null }));
    const writesAfterStop: string[] = [];
    const stop = source.stop.bind(source);
    source.stop = async () => {
      await stop();
      const write = source.writeSecret.bind(source);
      source.writeSecret = async (name, value) => {
        writesAfterStop.push(name);
        await write(name, value);
      };
    };
    await closeVolume(agent);
    await Promise.all(appends);
    assert.equal(source.stopped, true);
    const anchored = parseAnchorDocument(vault.kv.get(JOURNAL_ANCHOR_SECRET) ?? '');
    assert.ok(anchored.kind === 'heads');
    assert.equal(anchored.heads['audit']?.seq, agent.audit.head()?.seq, 'the last durable audit head is anchored');
    assert.deepEqual(await heldOpenUnder(dataDir), []);
    await closeVolume(agent);
    assert.deepEqual(writesAfterStop, [], 'nothing is written with a revoked token');
    await assert.rejects(agent.audit.append({ actor: 'agent', action_type: 'pause', target: 'test', parameters: {}, result: 'success', approval_status: 'not_required', approved_by: null }), /closed/);
  });
});

// closeVolume: every part closed after the writes it waits for, the heads recorded once the last append is
// durable and before the token goes, and a second close a no-op rather than an error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { JOURNAL_ANCHOR_SECRET, parseAnchorDocument } from '@agent-fleet/kernel/journal-anchor';
import { closeVolume } from '../../../agent-image/src/services/runtime/close-volume.ts';
import { openVolume } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { acmeConfig, dataDirectories, heldOpenUnder, volumeInputUnder } from '../../helpers/agent-volume.ts';
import { MemoryVault, VaultBackedSource } from '../journal-anchor/agent-bed.ts';

const freshDataDir = dataDirectories('close-volume-');

describe('closeVolume', () => {
  test('records the heads of appends still in flight at close, revokes the token last, and a second close does nothing', async () => {
    const dataDir = await freshDataDir();
    const config = acmeConfig();
    const vault = new MemoryVault();
    const source = new VaultBackedSource(vault, randomBytes(32));
    const outcome = await openVolume({ ...volumeInputUnder(dataDir, config), source, now: () => new Date() });
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

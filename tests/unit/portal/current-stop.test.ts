// When the agent's current stop began and who began it, as the portal tells a client admin, folded from
// the client's kill and revive entries of the ops log; and the per-client queue that runs the presses of
// the kill switch one after the other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OpsLogEntry } from '../../../orchestrator/src/domain/ops-log-entry.ts';
import { currentStop } from '../../../orchestrator/src/portal/gateway/current-stop.ts';
import { adminsMayRevive } from '../../../orchestrator/src/portal/stop-rights.ts';
import { OneAtATime } from '../../../orchestrator/src/services/one-at-a-time.ts';

let seq = 0;
const entry = (action: string, actor: string, outcome = 'success'): OpsLogEntry => {
  seq += 1;
  return { seq, at: `2026-03-10T12:0${seq}:00.000Z`, actor, action, clientId: 'acme', reason: 'r', outcome, details: {}, prevHash: '', hash: '' };
};

describe('the current stop from the ops log', () => {
  test('the first kill after the last revive that succeeded; kills applied again and failed revives do not move it', () => {
    const first = entry('kill', 'client-admin:lee@acme.example');
    const joined = entry('kill', 'alice@agency');
    const entries = [entry('kill', 'alice@agency'), entry('revive', 'alice@agency'), first, joined, entry('revive', 'bob@agency', 'failed'), entry('kill', 'client-admin:dana@acme.example')];
    assert.deepEqual(currentStop(entries), { at: first.at, by: { kind: 'client-admin', email: 'lee@acme.example' }, agencyStoppedAt: joined.at });
  });

  test('anyone but a client admin is the agency; an erased actor is nobody; no kill since the revive is no stop', () => {
    assert.deepEqual(currentStop([entry('kill', 'incident:INC-7')])?.by, { kind: 'agency' });
    assert.equal(currentStop([entry('kill', '')])?.by, null);
    assert.equal(currentStop([entry('kill', 'alice@agency'), entry('revive', 'alice@agency')]), null);
    assert.equal(currentStop([]), null);
  });
});

describe('who may restart the current stop from the portal', () => {
  test('the client\'s admins, for a stop one of them began and nobody else joined; else only the agency', () => {
    const admin = 'client-admin:lee@acme.example';
    assert.equal(adminsMayRevive(currentStop([entry('kill', admin)])), true);
    assert.equal(adminsMayRevive(currentStop([entry('kill', admin), entry('kill', 'client-admin:dana@acme.example')])), true);
    assert.equal(adminsMayRevive(currentStop([entry('kill', 'alice@agency')])), false);
    assert.equal(adminsMayRevive(currentStop([entry('kill', admin), entry('kill', 'incident:INC-7', 'failed')])), false);
    assert.equal(adminsMayRevive(currentStop([entry('kill', '')])), false, 'an author not known is not taken for the client');
    assert.equal(adminsMayRevive(currentStop([entry('kill', 'alice@agency'), entry('revive', 'alice@agency'), entry('kill', admin)])), true);
    assert.equal(adminsMayRevive(null), false);
  });
});

describe('one at a time per key', () => {
  test('work for a key waits for the work before it, failed or not; other keys do not wait', async () => {
    const queue = new OneAtATime();
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = queue.run('acme', async () => {
      await held;
      order.push('acme-1');
      throw new Error('first failed');
    });
    const second = queue.run('acme', async () => void order.push('acme-2'));
    await queue.run('globex', async () => void order.push('globex'));
    assert.deepEqual(order, ['globex']);
    release();
    await assert.rejects(first, /first failed/);
    await second;
    assert.deepEqual(order, ['globex', 'acme-1', 'acme-2']);
  });
});

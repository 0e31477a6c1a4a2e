import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { hashOpsLogEntry, newSeals, verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/domain/ops-log-entry.ts';
import { eraseClientOpsLog, personalFieldsOf } from '../../../orchestrator/src/services/erasure/ops-log-erasure.ts';

let salts = 0;

/** An ops log held in memory, chained and sealed as the registry does; saves replace entries by sequence number. */
function memoryOpsLog(bodies: ReadonlyArray<Pick<OpsLogEntry, 'actor' | 'action' | 'clientId' | 'reason' | 'details'>>) {
  const entries: OpsLogEntry[] = [];
  for (const body of bodies) {
    const unhashed = { seq: entries.length + 1, at: new Date(Date.UTC(2026, 10, 1 + entries.length)).toISOString(), outcome: 'success', ...body, prevHash: entries.at(-1)?.hash ?? GENESIS_HASH, seals: newSeals(() => `s${(salts += 1)}`) };
    entries.push({ ...unhashed, hash: hashOpsLogEntry(unhashed) });
  }
  return {
    entries,
    listOpsLog: (filter: { clientId?: string } = {}) => Promise.resolve(entries.filter((entry) => filter.clientId === undefined || entry.clientId === filter.clientId)),
    saveErasedOpsLogEntries: (erased: readonly OpsLogEntry[]) => {
      for (const entry of erased) entries[entry.seq - 1] = entry;
      return Promise.resolve();
    },
  };
}

const acme = parseClientId('acme');

void test('a deleted client: its admins, reasons and details go, team members and the deletion records stay', async () => {
  const log = memoryOpsLog([
    { actor: 'client-admin:jane@acme.example', action: 'config-change', clientId: acme, reason: 'new partner', details: { blockList: '+spam@x.example' } },
    { actor: 'ops@agency', action: 'kill', clientId: acme, reason: 'asked by jane@acme.example', details: { revokedTokens: 2 } },
    { actor: 'ops@agency', action: 'erasure-request', clientId: acme, reason: null, details: { requestId: 'DSR-7', deadline: '2026-12-31T00:00:00.000Z' } },
    { actor: 'client-admin:bob@globex.example', action: 'config-change', clientId: 'globex', reason: 'other client', details: { knownContacts: '+c@globex.example' } },
  ]);
  assert.deepEqual(personalFieldsOf(log.entries[0]!), ['actor', 'reason', 'details']);
  assert.deepEqual(personalFieldsOf(log.entries[2]!), [], 'the request proves the deadline: kept whole');
  const outcome = await eraseClientOpsLog(log, acme, new Date('2026-12-02T00:00:00Z'));
  assert.deepEqual(outcome, { erased: 2, unerasable: 0 });
  const text = JSON.stringify(log.entries.slice(0, 3));
  assert.doesNotMatch(text, /jane|spam@|new partner/);
  assert.equal(log.entries[1]!.actor, 'ops@agency');
  assert.equal(log.entries[2]!.details['requestId'], 'DSR-7');
  assert.equal(log.entries[3]!.actor, 'client-admin:bob@globex.example', 'another client is untouched');
  assert.deepEqual(personalFieldsOf(log.entries[0]!), [], 'nothing left to erase');
  assert.deepEqual(await eraseClientOpsLog(log, acme, new Date()), { erased: 0, unerasable: 0 }, 'idempotent');

  log.entries.push(((unhashed) => ({ ...unhashed, hash: hashOpsLogEntry(unhashed) }))({ seq: 5, at: '2026-12-02T00:00:01.000Z', actor: 'ops@agency', action: 'erase', clientId: acme, reason: null, outcome: 'success', details: {}, prevHash: log.entries[3]!.hash, seals: newSeals(() => 'z') }));
  assert.equal(verifyOpsLog(log.entries).valid, true);
});

void test('entries written before seals are counted, not changed', async () => {
  const log = memoryOpsLog([{ actor: 'client-admin:jane@acme.example', action: 'kill', clientId: acme, reason: null, details: {} }]);
  const { seals: _, ...unsealed } = log.entries[0]!;
  log.entries[0] = { ...unsealed, hash: hashOpsLogEntry(unsealed) };
  assert.deepEqual(await eraseClientOpsLog(log, acme, new Date()), { erased: 0, unerasable: 1 });
  assert.equal(log.entries[0]!.actor, 'client-admin:jane@acme.example');
});

// The ops-log verification reads rows someone may have written to: whatever they hold (seals that are
// null or an array, details JSON cannot hold), it reports the entry as edited and never throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { eraseFields, hashOpsLogEntry, newSeals, verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';

function chain(count: number): OpsLogEntry[] {
  const entries: OpsLogEntry[] = [];
  let prevHash = GENESIS_HASH;
  let salt = 0;
  for (let seq = 1; seq <= count; seq++) {
    const body = {
      seq,
      at: new Date(Date.UTC(2026, 11, 2, 10, seq)).toISOString(),
      actor: 'alice',
      action: 'support-access',
      clientId: 'acme',
      reason: 'read the audit log',
      outcome: 'success',
      details: { grantId: 'sg-0123456789abcdef', incident: 'INC-1' },
      prevHash,
      seals: newSeals(() => `salt-${(salt += 1)}`),
    };
    const hash = hashOpsLogEntry(body);
    entries.push({ ...body, hash });
    prevHash = hash;
  }
  return entries;
}

const edited = (seq: number) => ({ valid: false, entries: 3, firstBadSeq: seq, problem: 'edited' });

void test('an entry whose stored seals or details are not what was hashed is reported edited, not thrown on', () => {
  const entries = chain(3);
  const replaced = (change: Record<string, unknown>) => entries.map((entry) => (entry.seq === 2 ? ({ ...entry, ...change } as OpsLogEntry) : entry));
  assert.deepEqual(verifyOpsLog(replaced({ seals: null })), edited(2));
  assert.deepEqual(verifyOpsLog(replaced({ seals: [] })), edited(2));
  assert.deepEqual(verifyOpsLog(replaced({ details: { grantId: new Date(0) } })), edited(2));
  const erased = eraseFields(entries[1]!, ['details'], new Date());
  assert.deepEqual(verifyOpsLog(replaced({ seals: erased.seals, details: { grantId: 1n } })), edited(2));
});

void test('a duplicated, dropped or swapped entry is found where it happened', () => {
  const [first, second, third] = chain(3) as [OpsLogEntry, OpsLogEntry, OpsLogEntry];
  assert.deepEqual(verifyOpsLog([first, second, second]), { valid: false, entries: 3, firstBadSeq: 3, problem: 'reordered' });
  assert.deepEqual(verifyOpsLog([first, third]), { valid: false, entries: 2, firstBadSeq: 2, problem: 'gap' });
  assert.deepEqual(verifyOpsLog([second, first, third]), { valid: false, entries: 3, firstBadSeq: 1, problem: 'gap' });
  assert.deepEqual(verifyOpsLog([first, second, third]), { valid: true, entries: 3, head: third.hash });
});

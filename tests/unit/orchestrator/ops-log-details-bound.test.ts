// An entry's details are bounded in bytes when written: over the bound they are cut to their short top-level
// values and a marker of what was left out, and the entry still chains and verifies like any other.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson, GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { hashOpsLogEntry, newSeals, verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { boundOpsLogDetails, DETAILS_TRUNCATED_KEY, MAX_OPS_LOG_DETAILS_BYTES } from '../../../orchestrator/src/domain/ops-log-details.ts';
import { registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { verifyStoredOpsLog } from '../../../orchestrator/src/services/ops-log-verification.ts';
import { opsLogBed } from '../../helpers/ops-log-bed.ts';

const huge = (bytes: number) => 'x'.repeat(bytes);

void test('details within the bound are written as given', () => {
  const details = { incident: 'INC-3', lines: ['a', 'b'], note: huge(1000) };
  assert.equal(boundOpsLogDetails(details), details);
});

void test('details over the bound keep their short values (the incident id) and say what was cut', () => {
  const details = { incident: 'INC-3', count: 4, flag: true, body: huge(MAX_OPS_LOG_DETAILS_BYTES * 30), list: Array.from({ length: 5 }, () => huge(100)) };
  const bounded = boundOpsLogDetails(details);
  assert.ok(Buffer.byteLength(canonicalJson(bounded)) <= MAX_OPS_LOG_DETAILS_BYTES);
  assert.deepEqual(bounded, {
    incident: 'INC-3',
    count: 4,
    flag: true,
    [DETAILS_TRUNCATED_KEY]: { bytes: Buffer.byteLength(canonicalJson(details)), limitBytes: MAX_OPS_LOG_DETAILS_BYTES, keysLeftOut: 2 },
  });
});

void test('many small values over the bound are kept only up to a part of it, and a __proto__ key stays a plain key', () => {
  const details = JSON.parse(`{"__proto__":{"polluted":true},${Array.from({ length: 20_000 }, (_, index) => `"k${index}":"${huge(10)}"`).join(',')}}`) as Record<string, unknown>;
  const bounded = boundOpsLogDetails(details);
  assert.ok(Buffer.byteLength(canonicalJson(bounded)) <= MAX_OPS_LOG_DETAILS_BYTES);
  assert.equal(Object.getPrototypeOf(bounded), Object.prototype);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.ok(DETAILS_TRUNCATED_KEY in bounded);
});

void test('an entry written with bounded details chains and verifies', () => {
  const salt = () => randomBytes(16).toString('hex');
  const body = { seq: 1, at: '2026-12-01T10:00:00.000Z', actor: 'ops', action: 'config-change', clientId: 'acme', reason: null, outcome: 'success', details: boundOpsLogDetails({ diff: huge(MAX_OPS_LOG_DETAILS_BYTES + 1) }), prevHash: GENESIS_HASH, seals: newSeals(salt) };
  const entry = { ...body, hash: hashOpsLogEntry(body) };
  assert.deepEqual(verifyOpsLog([entry]), { valid: true, entries: 1, head: entry.hash });
});

const bed = opsLogBed('ops-log-details-bound-');

void test(
  'the registry appends an entry with oversized details bounded, and the log verifies',
  async () => {
    await bed.emptyLog();
    const { registry } = await registryOn(bed.executor, bed.homeDir);
    const appended = await registry.appendOpsLog({ actor: 'ops', action: 'config-change', clientId: 'acme', reason: null, outcome: 'success', details: { incident: 'INC-1', diff: huge(2 * 1024 * 1024) } });
    assert.ok(Buffer.byteLength(canonicalJson(appended.details)) <= MAX_OPS_LOG_DETAILS_BYTES);
    const [stored] = await registry.listOpsLog();
    assert.deepEqual(stored?.details, appended.details);
    assert.equal(stored?.details['incident'], 'INC-1');
    assert.equal((await verifyStoredOpsLog(registry)).valid, true);
  },
);

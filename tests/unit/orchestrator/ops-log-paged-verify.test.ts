// `ops-log verify` reads the log a page at a time: memory bounded by a page whatever the log's length, the
// same answer as over the whole log, and hostile seqs (at or below 0, past 2^53) neither skipped nor looped on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import { registryKeyDirectory, registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import type { SqlRegistry } from '../../../orchestrator/src/adapters/sql/sql-registry.ts';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { eraseFields, hashOpsLogEntry, newSeals, verifyOpsLog, verifyOpsLogPages } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { verifyStoredOpsLog } from '../../../orchestrator/src/services/ops-log-verification.ts';
import { opsLogBed } from '../../helpers/ops-log-bed.ts';

const acme = parseClientId('acme');
const kill = { actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} };

const bed = opsLogBed('ops-log-paged-verify-');

/** The executor, with the most rows any one read of ops-log entries returned. */
function measuring(executor: SqlExecutor): { executor: SqlExecutor; largestRead: () => number; reads: () => number; reset: () => void } {
  let largest = 0;
  let reads = 0;
  const wrap = (inner: SqlExecutor): SqlExecutor => ({
    query: async <Row>(sql: string, params?: unknown[]) => {
      const rows = await inner.query<Row>(sql, params);
      if (/^SELECT \*.* FROM ops_log/.test(sql)) {
        reads += 1;
        largest = Math.max(largest, rows.length);
      }
      return rows;
    },
    transaction: (work) => inner.transaction((tx) => work(wrap(tx))),
    reclaim: (tables) => inner.reclaim(tables),
    close: () => inner.close(),
  });
  const reset = () => {
    largest = 0;
    reads = 0;
  };
  return { executor: wrap(executor), largestRead: () => largest, reads: () => reads, reset };
}

async function logOf(length: number): Promise<SqlRegistry> {
  await bed.emptyLog();
  const { registry } = await registryOn(bed.executor, bed.homeDir);
  for (let index = 0; index < length; index++) await registry.appendOpsLog(kill);
  return registry;
}

/** A row at `seq` written straight to the table (sealed as the registry would, linked to entry 3). */
async function insertAfterSeq3(seq: bigint): Promise<void> {
  const masterKey = await loadOrCreateMasterKey(registryKeyDirectory(bed.homeDir));
  const sealed = registrySealer(masterKey).sealOpsLogFields(Number(seq), { actor: 'ops', reason: null, details: {} });
  await bed.executor.query(
    `INSERT INTO ops_log (seq, at, action, client_id, outcome, prev_hash, hash, seals, sealed_fields)
     SELECT $1::bigint, at, action, client_id, outcome, hash, $2, seals, $3 FROM ops_log WHERE seq = 3`,
    [seq.toString(), randomBytes(32).toString('hex'), sealed],
  );
}

const wholeLogAnswer = async (registry: SqlRegistry) => verifyOpsLog(await registry.listOpsLog(), await registry.opsLogHeadCheckpoint());

void test('verification reads no more entries at once than a page, and answers as over the whole log', async () => {
  await logOf(23);
  const measured = measuring(bed.executor);
  const { registry } = await registryOn(measured.executor, bed.homeDir);
  measured.reset();
  const paged = await verifyStoredOpsLog(registry, 5);
  assert.equal(paged.valid, true);
  assert.equal(paged.entries, 23);
  assert.ok(measured.largestRead() <= 5, `one read returned ${measured.largestRead()} entries`);
  assert.equal(measured.reads(), 5, 'ceil(23 / 5) pages');
  assert.deepEqual(paged, await wholeLogAnswer(registry));
});

void test('a log tampered with at a page boundary gives the same answer page by page as whole', async () => {
  const registry = await logOf(12);
  const tamperings = [
    { sql: 'DELETE FROM ops_log WHERE seq = 5', problem: 'gap', firstBadSeq: 5 },
    { sql: "UPDATE ops_log SET outcome = 'failure' WHERE seq = 4", problem: 'edited', firstBadSeq: 4 },
    { sql: 'DELETE FROM ops_log WHERE seq > 8', problem: 'truncated', firstBadSeq: 9 },
  ] as const;
  for (const tampering of tamperings) {
    await bed.executor.query('BEGIN');
    try {
      await bed.executor.query(tampering.sql);
      const paged = await verifyStoredOpsLog(registry, 4);
      assert.equal(paged.valid, false, tampering.sql);
      assert.deepEqual(paged, await wholeLogAnswer(registry), tampering.sql);
      assert.deepEqual([paged.valid === false && paged.problem, paged.valid === false && paged.firstBadSeq], [tampering.problem, tampering.firstBadSeq]);
    } finally {
      await bed.executor.query('ROLLBACK');
    }
  }
});

void test('pages past a seq no JavaScript number holds exactly end, with the row counted as a gap', async () => {
  const registry = await logOf(3);
  await insertAfterSeq3(2n ** 53n + 1n); // read as a number: 2^53, a seq the next page would start before
  let pages = 0;
  for await (const page of registry.readOpsLogPages({ pageSize: 1 })) {
    pages += 1;
    assert.ok(pages <= 4, `page ${pages} of a log of 4 entries: ${page.map((entry) => entry.seq).join(', ')}`);
  }
  assert.equal(pages, 4);
  assert.deepEqual(await verifyStoredOpsLog(registry, 1), { valid: false, entries: 4, firstBadSeq: 4, problem: 'gap' });
});

void test('an entry at seq 0 or below is read on the first page, not skipped as before the start', async () => {
  const registry = await logOf(3);
  await insertAfterSeq3(-1n);
  const paged = await verifyStoredOpsLog(registry, 2);
  assert.deepEqual(paged, await wholeLogAnswer(registry));
  assert.equal(paged.valid, false);
});

void test('a page size that is not a small positive whole number is refused before any read', async () => {
  const registry = await logOf(1);
  for (const pageSize of [0, -1, 1.5, Number.NaN, 1e9]) {
    await assert.rejects(verifyStoredOpsLog(registry, pageSize), { code: 'invalid_input' }, String(pageSize));
  }
});

/** A sealed chain of `steps` (client and action), each entry linked to the one before. */
function sealedChain(steps: readonly (readonly [string | null, string])[]): OpsLogEntry[] {
  const entries: OpsLogEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (const [index, [clientId, action]] of steps.entries()) {
    const body = { seq: index + 1, at: '2026-11-23T10:00:00.000Z', actor: 'ops', action, clientId, reason: 'r', outcome: 'success', details: {}, prevHash, seals: newSeals(() => randomBytes(16).toString('hex')) };
    const entry = { ...body, hash: hashOpsLogEntry(body) };
    entries.push(entry);
    prevHash = entry.hash;
  }
  return entries;
}

async function* pagesOf(entries: readonly OpsLogEntry[], size: number): AsyncGenerator<OpsLogEntry[]> {
  for (let start = 0; start < entries.length; start += size) yield entries.slice(start, start + size);
}

void test('erasures are judged across pages as over the whole log: a deletion on a later page explains them, one before does not', async () => {
  const steps = [
    ['acme', 'provision'],
    ['globex', 'provision'],
    ['globex', 'erase'],
    ['acme', 'kill'],
    ['globex', 'kill'],
    [null, 'rotate-key'],
    ['acme', 'erase'],
  ] as const;
  const erase = (entries: OpsLogEntry[], seqs: readonly number[]) => entries.map((entry) => (seqs.includes(entry.seq) ? eraseFields(entry, ['actor', 'reason', 'details'], new Date(0)) : entry));
  const cases = [
    { erased: [1, 4], expected: { valid: true } },
    { erased: [1, 5], expected: { valid: false, firstBadSeq: 5 } }, // globex's deletion comes before seq 5
    { erased: [2, 4, 5], expected: { valid: false, firstBadSeq: 5 } },
    { erased: [6, 1], expected: { valid: false, firstBadSeq: 6 } }, // an entry of no client is never explained
    { erased: [7], expected: { valid: false, firstBadSeq: 7 } }, // a deletion does not explain its own entry
  ];
  for (const { erased, expected } of cases) {
    const entries = erase(sealedChain(steps), erased);
    const whole = verifyOpsLog(entries);
    assert.equal(whole.valid, expected.valid, `erased ${erased.join(', ')}`);
    if (!whole.valid) assert.equal(whole.firstBadSeq, expected.firstBadSeq, `erased ${erased.join(', ')}`);
    for (let size = 1; size <= entries.length; size++) {
      assert.deepEqual(await verifyOpsLogPages(pagesOf(entries, size)), whole, `erased ${erased.join(', ')}, pages of ${size}`);
    }
  }
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import { opsLogHeadFile, registryKeyDirectory, registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { fileOpsLogHeadCheckpoint } from '../../../orchestrator/src/adapters/sql/ops-log-head-checkpoint.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { SqlRegistry } from '../../../orchestrator/src/adapters/sql/sql-registry.ts';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { opsLogBed, recordingLogger } from '../../helpers/ops-log-bed.ts';

const acme = parseClientId('acme');
const kill = { actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} };

/** The executor with every statement it runs (transactions' included) counted by `pattern`. */
function counting(executor: SqlExecutor, pattern: RegExp): { executor: SqlExecutor; count: () => number } {
  let count = 0;
  const wrap = (inner: SqlExecutor): SqlExecutor => ({
    query: (sql, params) => {
      if (pattern.test(sql)) count++;
      return inner.query(sql, params);
    },
    transaction: (work) => inner.transaction((tx) => work(wrap(tx))),
    reclaim: (tables) => inner.reclaim(tables),
    close: () => inner.close(),
  });
  return { executor: wrap(executor), count: () => count };
}

const bed = opsLogBed('ops-log-head-append-');
const emptyLog = (): Promise<void> => bed.emptyLog();

const verify = async (registry: SqlRegistry) => verifyOpsLog(await registry.listOpsLog(), await registry.opsLogHeadCheckpoint());

void test('an append takes the ops-log lock once: its head checkpoint is written without taking it again', async () => {
  await emptyLog();
  const locks = counting(bed.executor, /pg_advisory_xact_lock/);
  const { registry } = await registryOn(locks.executor, bed.homeDir);
  const before = locks.count();
  for (let index = 0; index < 3; index++) await registry.appendOpsLog(kill);
  assert.equal(locks.count() - before, 3);
  assert.equal((await registry.opsLogHeadCheckpoint())?.seq, 3);
});

void test('a checkpoint write that fails does not fail the append: logged once, counted, and the next append catches it up', async () => {
  await emptyLog();
  const logger = recordingLogger();
  const { registry } = await registryOn(bed.executor, bed.homeDir, logger);
  await registry.appendOpsLog(kill);
  const file = opsLogHeadFile(bed.homeDir);
  const atOne = await readFile(file, 'utf8');
  // Something that is not a file at the checkpoint's path: every write of it fails (EISDIR), as with an I/O error.
  await unlink(file);
  await mkdir(file);
  for (let index = 0; index < 3; index++) {
    const entry = await registry.appendOpsLog(kill);
    assert.equal(entry.seq, index + 2, 'the entry is committed and returned');
  }
  assert.equal((await registry.listOpsLog()).length, 4);
  assert.equal(registry.opsLogHeadCheckpointFailures, 3);
  const errors = logger.lines.filter((line) => line.level === 'error');
  assert.equal(errors.length, 1, 'logged when it falls behind, not at every append');
  assert.match(errors[0]!.message, /not written: the entry is recorded/);
  assert.deepEqual([errors[0]!.fields['seq'], errors[0]!.fields['location']], [2, file]);
  assert.ok(errors[0]!.fields['error'] instanceof Error);

  // The checkpoint as it was before the failures: several appends behind, and accepted (the chain links past it).
  await rm(file, { recursive: true });
  await writeFile(file, atOne);
  assert.equal((await verify(registry)).valid, true);
  // ... and it still catches a cut before it.
  await bed.executor.query('DELETE FROM ops_log WHERE seq > 0');
  assert.equal((await verify(registry)).valid, false);
  await emptyLog();

  await registry.appendOpsLog(kill);
  assert.equal((await registry.opsLogHeadCheckpoint())?.seq, 1);
  assert.ok(logger.lines.some((line) => line.level === 'info' && /caught up/.test(line.message)));
});

void test('appends from two registry handles of one process, all at once, leave the checkpoint at the head', async () => {
  await emptyLog();
  const first = (await registryOn(bed.executor, bed.homeDir)).registry;
  const second = (await registryOn(bed.executor, bed.homeDir)).registry;
  await Promise.all(Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? first : second).appendOpsLog(kill)));
  const entries = await first.listOpsLog();
  assert.equal(entries.length, 40);
  assert.deepEqual(await second.opsLogHeadCheckpoint(), { seq: 40, hash: entries[39]!.hash });
  assert.deepEqual(await verify(first), { valid: true, entries: 40, head: entries[39]!.hash });
});

void test('a database restored from a backup older than the checkpoint: the start says so and what to do, and re-anchoring works', async () => {
  await emptyLog();
  const { registry } = await registryOn(bed.executor, bed.homeDir);
  for (let index = 0; index < 5; index++) await registry.appendOpsLog(kill);
  // The backup was taken at seq 3.
  await bed.executor.query('DELETE FROM ops_log WHERE seq > 3');
  const reopened = await registryOn(bed.executor, bed.homeDir);
  assert.equal(reopened.opsLogAnchoring.checkpoint, 'invalid');
  const problem = reopened.opsLogAnchoring.checkpoint === 'invalid' ? reopened.opsLogAnchoring.problem : '';
  assert.match(problem, /ends at seq 3, before its head checkpoint at seq 5/);
  assert.match(problem, /restored from a backup/);
  assert.match(problem, new RegExp(`move it away and restart`));
  assert.ok(problem.includes(opsLogHeadFile(bed.homeDir)));
  assert.equal((await verify(registry)).valid, false);

  // The operator moves the checkpoint away and restarts: the log is anchored at its restored head, on the record.
  await rm(opsLogHeadFile(bed.homeDir));
  assert.deepEqual((await registryOn(bed.executor, bed.homeDir)).opsLogAnchoring.checkpoint, 'created');
  await registry.appendOpsLog(kill);
  const anchored = await registry.listOpsLog();
  assert.deepEqual([anchored[3]!.action, anchored[3]!.details], ['ops-log-anchored', { anchoredSeq: 3, anchoredHash: anchored[2]!.hash }]);
  assert.deepEqual(await verify(registry), { valid: true, entries: 5, head: anchored[4]!.hash, anchoredAt: 4 });

  // Restored from another backup whose entry at the checkpoint's seq differs.
  await bed.executor.query("UPDATE ops_log SET hash = repeat('0', 64) WHERE seq = 5");
  const rewritten = (await registryOn(bed.executor, bed.homeDir)).opsLogAnchoring;
  assert.match(rewritten.checkpoint === 'invalid' ? rewritten.problem : '', /entry at seq 5 is not the one its head checkpoint records/);
});

void test('a symbolic link at the checkpoint path is never written through, and one to a directory stops neither the start nor an append', async () => {
  await emptyLog();
  const { registry } = await registryOn(bed.executor, bed.homeDir);
  await registry.appendOpsLog(kill);
  const file = opsLogHeadFile(bed.homeDir);
  const elsewhere = path.join(bed.homeDir, 'elsewhere');
  await mkdir(elsewhere);
  const victim = path.join(elsewhere, 'precious');
  await writeFile(victim, 'not a checkpoint\n');
  await unlink(file);
  await symlink(victim, file);
  await registry.appendOpsLog(kill);
  assert.equal(await readFile(victim, 'utf8'), 'not a checkpoint\n', 'the link target is left alone');
  assert.equal((await registryOn(bed.executor, bed.homeDir)).opsLogAnchoring.checkpoint, 'invalid');

  await unlink(file);
  await symlink(elsewhere, file);
  const anchoring = (await registryOn(bed.executor, bed.homeDir)).opsLogAnchoring;
  assert.match(anchoring.checkpoint === 'invalid' ? anchoring.problem : '', /cannot be read/);
  assert.equal((await registry.appendOpsLog(kill)).seq, 3);
  await unlink(file);
});

void test('a FIFO at the checkpoint path holds up neither an append nor the start: the write fails, the start says so', async (t) => {
  await emptyLog();
  await registryOn(bed.executor, bed.homeDir);
  const file = opsLogHeadFile(bed.homeDir);
  execFileSync('mkfifo', [file]);
  t.after(() => rm(file, { force: true }));
  const logger = recordingLogger();
  const masterKey = await loadOrCreateMasterKey(registryKeyDirectory(bed.homeDir));
  const registry = new SqlRegistry(bed.executor, registrySealer(masterKey), {
    headCheckpoint: fileOpsLogHeadCheckpoint(file, masterKey),
    logger,
    headCheckpointWaitMs: 60_000,
  });
  assert.equal((await registry.appendOpsLog(kill)).seq, 1);
  assert.equal(registry.opsLogHeadCheckpointFailures, 1);
  assert.ok(logger.lines.some((line) => line.level === 'error' && /not written/.test(line.message)));
  const anchoring = (await registryOn(bed.executor, bed.homeDir)).opsLogAnchoring;
  assert.match(anchoring.checkpoint === 'invalid' ? anchoring.problem : '', /cannot be read .*not a regular file/);
});

void test('two appends that read the same head cannot both commit: the table takes one entry per seq, and per hash', async () => {
  await emptyLog();
  const { registry } = await registryOn(bed.executor, bed.homeDir);
  for (let index = 0; index < 2; index++) await registry.appendOpsLog(kill);
  // What a second instance appending from the same head without the ops-log lock would write: a fork at seq 2.
  const fork = `INSERT INTO ops_log (seq, at, action, client_id, outcome, prev_hash, hash, seals, sealed_fields)
     SELECT seq, at, action, client_id, outcome, prev_hash, $1, seals, sealed_fields FROM ops_log WHERE seq = 2`;
  await assert.rejects(bed.executor.query(fork, [randomBytes(32).toString('hex')]), /duplicate key/);
  const sameHash = `INSERT INTO ops_log (seq, at, action, client_id, outcome, prev_hash, hash, seals, sealed_fields)
     SELECT 3, at, action, client_id, outcome, prev_hash, hash, seals, sealed_fields FROM ops_log WHERE seq = 2`;
  await assert.rejects(bed.executor.query(sameHash), /duplicate key/);
  assert.equal((await verify(registry)).valid, true);
});

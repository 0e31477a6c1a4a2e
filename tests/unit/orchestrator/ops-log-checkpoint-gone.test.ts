// The ops log's head checkpoint when it is gone, or written by two processes: a deleted checkpoint is never
// made again silently, a start that makes one beside a log with entries puts that on the record, and a
// write of an older head over a newer one (another process) is repaired.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import { opsLogHeadFile, registryKeyDirectory, registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { fileOpsLogHeadCheckpoint, type OpsLogHeadCheckpoint } from '../../../orchestrator/src/adapters/sql/ops-log-head-checkpoint.ts';
import { opsLogHeadWritesSettled } from '../../../orchestrator/src/adapters/sql/ops-log-head-writer.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlRegistry } from '../../../orchestrator/src/adapters/sql/sql-registry.ts';
import { formatOpsLogVerification } from '../../../orchestrator/src/cli/format/ops-log.ts';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { createOpsLogCheckpointMetrics } from '../../../orchestrator/src/observability/metrics.ts';
import { opsLogBed, recordingLogger } from '../../helpers/ops-log-bed.ts';

const acme = parseClientId('acme');
const kill = { actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} };

const bed = opsLogBed('ops-log-checkpoint-gone-');
const emptyLog = (): Promise<void> => bed.emptyLog();

const checkpointSeq = async (): Promise<number> => (JSON.parse(await readFile(opsLogHeadFile(bed.homeDir), 'utf8')) as { seq: number }).seq;

void test('a checkpoint deleted while the orchestrator runs is not made again at the next append: logged, counted, and verification fails', async () => {
  await emptyLog();
  const logger = recordingLogger();
  const { registry } = await registryOn(bed.executor, bed.homeDir, logger);
  for (let index = 0; index < 3; index++) await registry.appendOpsLog(kill);
  // Someone rewrites the log in the database and deletes the checkpoint that would tell.
  await rm(opsLogHeadFile(bed.homeDir));
  await registry.appendOpsLog(kill);
  await registry.appendOpsLog(kill);
  assert.equal(await readFile(opsLogHeadFile(bed.homeDir), 'utf8').catch(() => null), null, 'not made again from what the database holds now');
  assert.equal(registry.opsLogHeadCheckpointFailures, 2);
  const errors = logger.lines.filter((line) => line.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /is gone/);
  await assert.rejects(registry.opsLogHeadCheckpoint(), (error: unknown) => isFleetError(error) && error.code === 'integrity' && /missing although the log holds entries up to seq 5/.test(error.message));
  assert.deepEqual(await registry.opsLogCheckpointStatus(), { state: 'missing', lagEntries: 5, writeFailures: 2, anchoredOnFirstUse: false });
});

void test('a start that finds no checkpoint beside a log with entries anchors it on the record: an entry, a warning, a note in verification and a metric', async () => {
  await emptyLog();
  const { registry } = await registryOn(bed.executor, bed.homeDir);
  for (let index = 0; index < 3; index++) await registry.appendOpsLog(kill);
  const third = (await registry.listOpsLog())[2]!;
  await rm(opsLogHeadFile(bed.homeDir));

  const logger = recordingLogger();
  const reopened = await registryOn(bed.executor, bed.homeDir, logger);
  assert.deepEqual(reopened.opsLogAnchoring, { checkpoint: 'created', head: { seq: 3, hash: third.hash } });
  const entries = await reopened.registry.listOpsLog();
  assert.equal(entries.length, 4);
  assert.deepEqual([entries[3]!.action, entries[3]!.actor, entries[3]!.clientId, entries[3]!.details], ['ops-log-anchored', 'orchestrator', null, { anchoredSeq: 3, anchoredHash: third.hash }]);
  assert.equal(await checkpointSeq(), 4, 'the checkpoint covers the anchoring entry too');
  assert.ok(logger.lines.some((line) => line.level === 'warn' && /no ops-log head checkpoint at start/.test(line.message) && line.fields['seq'] === 3));

  const verification = verifyOpsLog(entries, await reopened.registry.opsLogHeadCheckpoint());
  assert.deepEqual(verification, { valid: true, entries: 4, head: entries[3]!.hash, anchoredAt: 4 });
  assert.match(formatOpsLogVerification(verification), /ops log intact: 4 entries.*\nnote: at seq 4 a start found no head checkpoint/s);
  assert.deepEqual(await reopened.registry.opsLogCheckpointStatus(), { state: 'ok', lagEntries: 0, writeFailures: 0, anchoredOnFirstUse: true });

  // A start with the checkpoint in place, or with an empty log, appends nothing.
  assert.equal((await registryOn(bed.executor, bed.homeDir)).opsLogAnchoring.checkpoint, 'present');
  await emptyLog();
  assert.equal((await registryOn(bed.executor, bed.homeDir)).opsLogAnchoring.checkpoint, 'empty-log');
  assert.equal((await registry.listOpsLog()).length, 0);
});

void test('an older head written over a newer one by another process is repaired: the checkpoint ends at the log head', async () => {
  await emptyLog();
  const { registry: first } = await registryOn(bed.executor, bed.homeDir);
  await first.appendOpsLog(kill);
  await first.appendOpsLog(kill);

  // The second process: its own write queue (another location string for the same file), and a write
  // that reads the file, waits, then replaces it (the read-compare-rename no lock spans across processes).
  const masterKey = await loadOrCreateMasterKey(registryKeyDirectory(bed.homeDir));
  const file = opsLogHeadFile(bed.homeDir);
  const sameFile = fileOpsLogHeadCheckpoint(file, masterKey);
  let readDone!: () => void;
  const hasRead = new Promise<void>((resolve) => (readDone = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let raced = false;
  const slow: OpsLogHeadCheckpoint = {
    location: `${path.dirname(file)}//${path.basename(file)}`,
    read: () => sameFile.read(),
    async advance(head, options) {
      const seen = await sameFile.read();
      if (!raced) {
        raced = true;
        readDone();
        await released;
        if (seen !== null && seen.seq >= head.seq) return 'kept';
        await rm(file);
        return sameFile.advance(head, { create: true });
      }
      return sameFile.advance(head, options);
    },
  };
  const second = new SqlRegistry(bed.executor, registrySealer(masterKey), { headCheckpoint: slow });
  const secondAppend = second.appendOpsLog(kill);
  await hasRead;
  await first.appendOpsLog(kill);
  assert.equal(await checkpointSeq(), 4);
  release();
  assert.equal((await secondAppend).seq, 3);
  await opsLogHeadWritesSettled(slow.location);
  await opsLogHeadWritesSettled(file);
  const entries = await first.listOpsLog();
  assert.deepEqual(await first.opsLogHeadCheckpoint(), { seq: 4, hash: entries[3]!.hash }, 'not left behind at seq 3');
});

void test('the checkpoint metrics: its state, its lag, failed writes and an anchoring on first use', async () => {
  const metrics = new MetricsRegistry();
  let reads = 0;
  createOpsLogCheckpointMetrics(metrics, async () => {
    reads += 1;
    return { state: 'missing', lagEntries: 7, writeFailures: 2, anchoredOnFirstUse: true };
  });
  const text = await metrics.metrics();
  assert.match(text, /^fleet_ops_log_checkpoint_state\{state="missing"\} 1$/m);
  assert.match(text, /^fleet_ops_log_checkpoint_state\{state="ok"\} 0$/m);
  assert.match(text, /^fleet_ops_log_checkpoint_lag_entries 7$/m);
  assert.match(text, /^fleet_ops_log_checkpoint_failures_total 2$/m);
  assert.match(text, /^fleet_ops_log_checkpoint_anchored_on_first_use 1$/m);
  assert.equal(reads, 1, 'one reading per scrape');
});

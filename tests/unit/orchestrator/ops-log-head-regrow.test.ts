// A tail cut from the ops log in the database, then grown again by the orchestrator's own appends past the
// checkpoint's seq, must not move the checkpoint on: the checkpoint advances only along the log it recorded,
// and one the log no longer holds is kept as evidence (verification goes on reporting the cut).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { opsLogHeadFile, registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { fileOpsLogHeadCheckpoint } from '../../../orchestrator/src/adapters/sql/ops-log-head-checkpoint.ts';
import { recordOpsLogHead } from '../../../orchestrator/src/adapters/sql/ops-log-head-writer.ts';
import { verifyStoredOpsLog } from '../../../orchestrator/src/services/ops-log-verification.ts';
import { opsLogBed } from '../../helpers/ops-log-bed.ts';

const hashOf = (n: number): string => String(n).repeat(64);

async function withCheckpoint<T>(work: (file: string, checkpoint: ReturnType<typeof fileOpsLogHeadCheckpoint>) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ops-log-head-regrow-'));
  try {
    const file = path.join(dir, 'ops-log-head.json');
    return await work(file, fileOpsLogHeadCheckpoint(file, randomBytes(32)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test('the checkpoint does not move past a recorded head the log no longer holds', async () => {
  await withCheckpoint(async (file, checkpoint) => {
    assert.equal(await checkpoint.advance({ seq: 5, hash: hashOf(5) }), 'advanced');
    const asked: number[] = [];
    const cut = async (recorded: { seq: number }) => {
      asked.push(recorded.seq);
      return Promise.resolve(false);
    };
    assert.equal(await checkpoint.advance({ seq: 6, hash: hashOf(6) }, { holds: cut }), 'refused-invalid');
    assert.deepEqual(asked, [5], 'asked about the recorded head');
    assert.deepEqual(await checkpoint.read(), { seq: 5, hash: hashOf(5) }, 'kept as evidence');
    const recording = await recordOpsLogHead(checkpoint, { seq: 7, hash: hashOf(7) }, { create: false, holds: cut });
    assert.equal(recording.outcome, 'refused-invalid', 'the writer passes the question on');
    assert.match(await readFile(file, 'utf8'), /"seq":5,/);
    assert.equal(await checkpoint.advance({ seq: 8, hash: hashOf(8) }, { holds: () => Promise.resolve(true) }), 'advanced');
    assert.deepEqual(await checkpoint.read(), { seq: 8, hash: hashOf(8) });
  });
});

const acme = parseClientId('acme');
const kill = { actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} };
const bed = opsLogBed('ops-log-head-regrow-');

void test(
  "a cut tail grown again past the checkpoint by the orchestrator's appends still fails verification",
  async () => {
    await bed.emptyLog();
    const { registry } = await registryOn(bed.executor, bed.homeDir);
    for (let index = 0; index < 5; index++) await registry.appendOpsLog(kill);
    // Someone who can write the database (not the checkpoint) deletes the last two entries.
    await bed.executor.query('DELETE FROM ops_log WHERE seq > 3');
    for (let index = 0; index < 3; index++) await registry.appendOpsLog({ ...kill, action: 'provision' });
    assert.match(await readFile(opsLogHeadFile(bed.homeDir), 'utf8'), /"seq":5,/, 'the checkpoint stays at the cut head');
    const verification = await verifyStoredOpsLog(registry);
    assert.equal(verification.valid, false);
    assert.equal(verification.valid === false && verification.problem, 'head-mismatch');
  },
);

// A second orchestrator that started on an empty log must not make the head checkpoint again once it is
// deleted: the entries before its append were written by another process, and making the checkpoint from
// the database's head would vouch for whatever the database holds by then (a cut or rewritten tail).
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { opsLogHeadFile, registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { verifyStoredOpsLog } from '../../../orchestrator/src/services/ops-log-verification.ts';
import { opsLogBed } from '../../helpers/ops-log-bed.ts';

const acme = parseClientId('acme');
const kill = { actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} };
const bed = opsLogBed('ops-log-second-start-');

void test(
  'a deleted checkpoint is not made again by an instance that started on the empty log: the cut tail still shows',
  async () => {
    await bed.emptyLog();
    const { registry: second } = await registryOn(bed.executor, bed.homeDir);
    const { registry: first } = await registryOn(bed.executor, bed.homeDir);
    for (let index = 0; index < 5; index++) await first.appendOpsLog(kill);
    // Someone who can write the database and delete the file cuts the log's last two entries.
    await rm(opsLogHeadFile(bed.homeDir));
    await bed.executor.query('DELETE FROM ops_log WHERE seq > 3');
    await second.appendOpsLog(kill);
    assert.equal(await readFile(opsLogHeadFile(bed.homeDir), 'utf8').catch(() => null), null, 'not made again from the database');
    await assert.rejects(verifyStoredOpsLog(first), (error: unknown) => isFleetError(error) && error.code === 'integrity');
  },
);

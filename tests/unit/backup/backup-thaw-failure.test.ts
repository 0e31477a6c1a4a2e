// A backup freezes a running agent while its volume is read. A thaw that fails afterwards must neither
// lose the good backup nor go unnoticed: the backup tries again a few times, and an agent still paused
// after that is reported (an error log naming the client, an ops-log entry, a result that says so).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientBackups } from '../../../orchestrator/src/services/backup/client-backups.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { directoryBackupServices, smallestVolumeTar } from './backup-run-bed.ts';

const ACME = parseClientId('acme');
const now = () => new Date('2026-12-10T03:15:00.000Z');
const backupService = directoryBackupServices('backup-thaw-');

/** A running agent whose first `failingThaws` thaws fail; its snapshot fails when `snapshotFails`. */
async function fixture(failingThaws: number, snapshotFails = false) {
  const record = { id: ACME, status: 'active' } as ClientRecord;
  const log: NewOpsLogEntry[] = [];
  const errors: Array<{ message: string; client: unknown }> = [];
  const registry = {
    getClient: async () => record,
    listClients: async () => [record],
    appendOpsLog: async (entry: NewOpsLogEntry) => {
      log.push(entry);
      return { ...entry, seq: log.length, at: now().toISOString(), prevHash: '', hash: '' };
    },
  } as Partial<Registry> as Registry;
  let paused = false;
  let thawTries = 0;
  const archive = await smallestVolumeTar();
  const runtime = {
    volumes: {
      freezeAgent: async () => (paused = true),
      thawAgent: async () => {
        thawTries += 1;
        if (thawTries <= failingThaws) throw new Error('the engine did not answer the unpause (injected)');
        paused = false;
      },
      snapshot: async () => (snapshotFails ? Readable.from([archive.subarray(0, 100)]) : Readable.from([archive])),
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message, meta) => void errors.push({ message, client: (meta as { client?: unknown } | undefined)?.client }),
    child: () => logger,
  };
  const { service } = await backupService(ACME, now);
  const backups = new ClientBackups({ config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }), registry, runtime, backups: service, guard: new ClientOperationGuard(), logger, thawRetryDelayMs: 0 });
  return { backups, service, log, errors, paused: () => paused, thawTries: () => thawTries };
}

void describe('thawing the agent after its backup', () => {
  test('a thaw that fails at first is tried again, and the backup succeeds with the agent running', async () => {
    const run = await fixture(2);
    const result = await run.backups.backup({ clientId: ACME, actor: 'ops' });
    assert.equal(result.stillPaused, false);
    assert.equal(run.paused(), false);
    assert.equal(run.thawTries(), 3);
    assert.equal((await run.service.list(ACME)).length, 1);
    assert.equal(run.log.at(-1)?.outcome, 'success');
    assert.deepEqual(run.errors, []);
  });

  test('an agent still paused after every try keeps the good backup and is reported loudly', async () => {
    const run = await fixture(Number.POSITIVE_INFINITY);
    const result = await run.backups.backup({ clientId: ACME, actor: 'ops' });
    assert.equal(result.stillPaused, true, 'the result says the agent is still paused');
    assert.equal(run.paused(), true);
    assert.ok(run.thawTries() > 1 && Number.isFinite(run.thawTries()), 'tried a bounded number of times');
    assert.deepEqual((await run.service.list(ACME)).map((backup) => backup.backupId), [result.backupId], 'the backup is kept');
    assert.equal(run.log.at(-1)?.outcome, 'partial');
    assert.equal(run.log.at(-1)?.details['agentStillPaused'], true);
    assert.ok(run.errors.some((line) => line.client === ACME && /still paused/.test(line.message)), 'an error log names the client');
  });

  test('the scheduled run lists an agent it left paused', async () => {
    const run = await fixture(Number.POSITIVE_INFINITY);
    const report = await run.backups.runScheduled();
    assert.deepEqual(report.backedUp, [ACME]);
    assert.deepEqual(report.stillPaused, [ACME]);
    assert.deepEqual(report.failed, []);
  });

  test('a failed backup that also cannot thaw the agent fails with its own error, and the pause is recorded', async () => {
    const run = await fixture(Number.POSITIVE_INFINITY, true);
    await assert.rejects(run.backups.backup({ clientId: ACME, actor: 'ops' }), (error: Error) => !/unpause/.test(error.message));
    assert.deepEqual(await run.service.list(ACME), []);
    assert.equal(run.log.at(-1)?.outcome, 'failed');
    assert.equal(run.log.at(-1)?.details['agentStillPaused'], true);
    assert.ok(run.errors.some((line) => line.client === ACME && /still paused/.test(line.message)));
  });
});

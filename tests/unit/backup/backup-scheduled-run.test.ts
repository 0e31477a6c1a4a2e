// The scheduled run lists the clients once and backs them up one after the other: a client erased or
// closed after the list was taken must not be backed up when its turn comes (a closed client's volume
// copied into a fresh backup, an erased one reported as a failure every night), but skipped.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientBackups } from '../../../orchestrator/src/services/backup/client-backups.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { directoryBackupServices, smallestVolumeTar } from './backup-run-bed.ts';

const ACME = parseClientId('acme');
const now = () => new Date('2026-12-10T03:15:00.000Z');

const backupService = directoryBackupServices('backup-scheduled-run-');

/** A run whose list says acme is active, while the registry now says `current` (null: erased). */
async function fixture(current: ClientStatus | null) {
  const record = (status: ClientStatus): ClientRecord => ({ id: ACME, status, provider: 'gmail', admins: [], configYaml: '', subnet: '10.9.0.0/29', onboardingStartedAt: now().toISOString(), operationId: null, operationHeartbeatAt: null, statusReason: null, createdAt: now().toISOString(), updatedAt: now().toISOString() });
  const log: NewOpsLogEntry[] = [];
  let snapshots = 0;
  const registry = {
    listClients: async () => [record('active')],
    getClient: async () => (current === null ? null : record(current)),
    appendOpsLog: async (entry: NewOpsLogEntry) => {
      log.push(entry);
      return { ...entry, seq: log.length, at: now().toISOString(), prevHash: '', hash: '' };
    },
  } as Partial<Registry> as Registry;
  const archive = await smallestVolumeTar();
  const runtime = {
    volumes: {
      freezeAgent: async () => false,
      thawAgent: async () => undefined,
      snapshot: async () => {
        snapshots++;
        return Readable.from([archive]);
      },
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const { service } = await backupService(ACME, now);
  const backups = new ClientBackups({ config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }), registry, runtime, backups: service, guard: new ClientOperationGuard(), logger: createSilentLogger() });
  return { backups, service, log, snapshots: () => snapshots };
}

void describe('the scheduled run reads each client again when its turn comes', () => {
  for (const [what, current] of [['closed', 'deprovisioned'], ['failed', 'failed'], ['erased', null]] as const) {
    test(`a client ${what} since the list was taken is skipped: no snapshot, no backup, no failure`, async () => {
      const run = await fixture(current);
      const report = await run.backups.runScheduled();
      assert.deepEqual(report, { backedUp: [], skipped: [ACME], pruned: 0, failed: [], stillPaused: [] });
      assert.equal(run.snapshots(), 0);
      assert.deepEqual(await run.service.list(ACME), []);
      assert.equal(run.log.length, 0);
    });
  }

  test('a client still active is backed up', async () => {
    const run = await fixture('active');
    const report = await run.backups.runScheduled();
    assert.deepEqual(report.backedUp, [ACME]);
    assert.equal((await run.service.list(ACME)).length, 1);
  });
});

// Retention after account closure, against an in-memory registry: the period runs from the closure the ops
// log recorded, so closing a closed client again does not extend it; a closure that stopped half way is
// purged too; the edges of the period.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { ClientRecord, OpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import type { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { closureDates, runRetention } from '../../../orchestrator/src/services/enforce-retention.ts';

const DAY_MS = 86_400_000;
const NOW = new Date('2026-12-10T02:30:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();

function client(id: string, status: ClientStatus, updatedAt: string): ClientRecord {
  return { id: parseClientId(id), status, provider: 'gmail', admins: [], configYaml: '', subnet: null, onboardingStartedAt: daysAgo(400), operationId: null, operationHeartbeatAt: null, statusReason: null, createdAt: daysAgo(400), updatedAt };
}

let seq = 0;
function entry(action: string, clientId: string, at: string, outcome = 'success'): OpsLogEntry {
  seq += 1;
  return { seq, at, actor: 'ops', action, clientId, reason: null, outcome, details: {}, prevHash: '', hash: '' };
}

/** `clients` is the registry's table: what `duringPurge` changes in it is seen by later reads. */
async function run(clients: ClientRecord[], log: OpsLogEntry[], retentionDays = 90, duringPurge: (clientId: unknown) => void = () => undefined) {
  const purged: Array<{ clientId: unknown; reason: string | undefined }> = [];
  const registry = {
    listClients: async () => [...clients],
    getClient: async (id: string) => clients.find((each) => each.id === id) ?? null,
    listOpsLog: async (filter: { actions?: readonly string[] } = {}) => log.filter((each) => filter.actions === undefined || filter.actions.includes(each.action)),
  } as Partial<Registry> as Registry;
  const deprovision = {
    deprovision: async (request: { clientId: unknown; reason?: string | undefined }) => {
      duringPurge(request.clientId);
      purged.push({ clientId: request.clientId, reason: request.reason });
      return { clientId: parseClientId(request.clientId), purged: true };
    },
  } as Partial<DeprovisionClientService> as DeprovisionClientService;
  const report = await runRetention({ registry, deprovision, clock: { now: () => NOW }, logger: createSilentLogger(), retentionDays, guard: new ClientOperationGuard() });
  return { returned: report.purged, purged, report };
}

describe('retention after account closure', () => {
  test('closing a closed client again (its row changed since) does not restart the period', async () => {
    const log = [entry('provision', 'acme', daysAgo(300)), entry('deprovision', 'acme', daysAgo(91)), entry('deprovision', 'acme', daysAgo(5))];
    const { returned, purged } = await run([client('acme', 'deprovisioned', daysAgo(5))], log);
    assert.deepEqual(returned, ['acme']);
    assert.match(purged[0]?.reason ?? '', new RegExp(`closed ${daysAgo(91).slice(0, 10)}, kept 90 days`));
  });

  test('a closure that stopped half way ("deprovisioning") is kept for the period, then purged like any other', async () => {
    assert.deepEqual((await run([client('stuck', 'deprovisioning', daysAgo(89))], [])).returned, []);
    assert.deepEqual((await run([client('stuck', 'deprovisioning', daysAgo(91))], [])).returned, ['stuck']);
  });

  test('the edges: a day before the end is kept, the end itself is purged; active and killed clients never are', async () => {
    const clients = [client('before', 'deprovisioned', new Date(NOW.getTime() - 90 * DAY_MS + 1000).toISOString()), client('at', 'deprovisioned', daysAgo(90)), client('live', 'active', daysAgo(500)), client('stopped', 'killed', daysAgo(500))];
    assert.deepEqual((await run(clients, [])).returned, ['at']);
  });

  test('a client provisioned again while the run purges others is left alone', async () => {
    const clients = [client('first', 'deprovisioned', daysAgo(200)), client('back', 'deprovisioned', daysAgo(200)), client('third', 'deprovisioned', daysAgo(200))];
    const { returned, purged } = await run(clients, [], 90, (clientId) => {
      // While the first purge runs, an admin provisions "back" again: it is active when its turn comes.
      if (clientId === 'first') clients[1] = client('back', 'active', NOW.toISOString());
    });
    assert.deepEqual(returned, ['first', 'third']);
    assert.deepEqual(
      purged.map((each) => each.clientId),
      ['first', 'third'],
    );
  });

  test('a client closed again since it was listed is decided on again by the next run', async () => {
    const clients = [client('first', 'deprovisioned', daysAgo(200)), client('again', 'deprovisioned', daysAgo(200))];
    const { returned } = await run(clients, [], 90, (clientId) => {
      if (clientId === 'first') clients[1] = client('again', 'deprovisioned', NOW.toISOString());
    });
    assert.deepEqual(returned, ['first']);
  });

  test('a client provisioned again after a closure counts from its new closure', () => {
    const log = [entry('deprovision', 'acme', daysAgo(200)), entry('provision', 'acme', daysAgo(100)), entry('provision', 'acme', daysAgo(99), 'failed'), entry('deprovision', 'acme', daysAgo(20)), entry('deprovision', 'beta', daysAgo(50)), entry('deprovision-purge', 'beta', daysAgo(10))];
    assert.deepEqual([...closureDates(log)], [['acme', daysAgo(20)]]);
  });

  test("one client's failed purge neither stops the others' nor goes unreported", async () => {
    const clients = [client('first', 'deprovisioned', daysAgo(200)), client('broken', 'deprovisioned', daysAgo(200)), client('held', 'deprovisioned', daysAgo(200)), client('last', 'deprovisioned', daysAgo(200)), client('recent', 'deprovisioned', daysAgo(3))];
    const { report } = await run(clients, [], 90, (clientId) => {
      if (clientId === 'broken') throw new FleetError('unavailable', 'the volume could not be removed');
      if (clientId === 'held') throw new FleetError('busy', 'held: a backup is in progress', { retryable: true });
    });
    assert.deepEqual(report.purged, ['first', 'last']);
    assert.deepEqual(report.failed, [{ clientId: 'broken', error: 'the volume could not be removed', failedBefore: 0 }]);
    assert.deepEqual([report.busy, report.waiting], [['held'], 1]);
  });

  test('a closure that cannot be dated is kept and reported, never purged blind', async () => {
    const { report } = await run([client('garbled', 'deprovisioned', 'not a date'), client('due', 'deprovisioned', daysAgo(200))], []);
    assert.deepEqual([report.purged, report.undated], [['due'], ['garbled']]);
  });

  test('a closure dated ahead of the clock (skew between the database and the orchestrator) waits', async () => {
    const ahead = new Date(NOW.getTime() + 30 * DAY_MS).toISOString();
    const { report } = await run([client('skewed', 'deprovisioned', ahead)], [entry('deprovision', 'skewed', ahead)]);
    assert.deepEqual([report.purged, report.waiting], [[], 1]);
  });

  test('a purge that failed, then a provisioning of the client, voids the purge: its new closure waits its own period', async () => {
    const log = [entry('deprovision-purge', 'back', daysAgo(60), 'started'), entry('deprovision-purge', 'back', daysAgo(60), 'failed'), entry('provision', 'back', daysAgo(50), 'failed'), entry('deprovision', 'back', daysAgo(10))];
    const { report } = await run([client('back', 'deprovisioned', daysAgo(10))], log);
    assert.deepEqual([report.purged, report.waiting], [[], 1]);
  });

  test('a purge that failed before it deleted the row is finished by the next run, its earlier failures counted', async () => {
    const log = [entry('deprovision-purge', 'half', daysAgo(2), 'started'), entry('deprovision-purge', 'half', daysAgo(2), 'failed'), entry('deprovision-purge', 'half', daysAgo(1), 'failed')];
    const { report, purged } = await run([client('half', 'deprovisioning', daysAgo(1))], log, 90, (clientId) => {
      if (clientId === 'half') throw new FleetError('unavailable', 'still down');
    });
    assert.deepEqual(report.failed, [{ clientId: 'half', error: 'still down', failedBefore: 2 }]);
    assert.deepEqual(purged, []);
    const healthy = await run([client('half', 'deprovisioning', daysAgo(1))], log);
    assert.deepEqual(healthy.purged, [{ clientId: 'half', reason: `retention: finishing the purge started ${daysAgo(2).slice(0, 10)}` }]);
  });
});

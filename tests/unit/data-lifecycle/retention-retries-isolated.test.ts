// The retention run's retries of deleted clients' metrics-history deletions and silence expiries: one
// client's retry that throws (its registry read failing, say) is left for the next run and stops no other's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { NewOpsLogEntry, OpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { retrySilencesExpiries } from '../../../orchestrator/src/services/erasure/alert-silences-retry.ts';
import { retryMetricsDeletions } from '../../../orchestrator/src/services/erasure/metrics-history-retry.ts';

const AT = '2026-12-01T10:00:00.000Z';
const CLIENTS = ['alpha', 'beta'].map((id) => parseClientId(id));
const [BROKEN] = CLIENTS;

/** Both clients purged with their metrics history and silences left behind; reading `BROKEN`'s row fails. */
function registryWithTwoPendingRetries(): { registry: Registry; appended: NewOpsLogEntry[] } {
  const steps = [
    { what: 'metrics-history', outcome: 'failed', detail: 'down' },
    { what: 'alertmanager', outcome: 'failed', detail: 'down' },
  ];
  const log: OpsLogEntry[] = CLIENTS.map((clientId, index) => ({ seq: index + 1, at: AT, actor: 'retention', action: 'deprovision-purge', clientId, reason: null, outcome: 'success', details: { steps }, prevHash: '', hash: '' }));
  const appended: NewOpsLogEntry[] = [];
  const registry = {
    listOpsLog: async () => log,
    getClient: async (id: ClientId) => {
      if (id === BROKEN) throw new FleetError('unavailable', 'the registry read failed (injected)');
      return null;
    },
    appendOpsLog: async (entry: NewOpsLogEntry) => {
      appended.push(entry);
      return { ...entry, seq: 99, at: AT, prevHash: '', hash: '' } as OpsLogEntry;
    },
  } as Partial<Registry> as Registry;
  return { registry, appended };
}

describe("one deleted client's failing retry", () => {
  test('does not stop the metrics-history deletion of the others', async () => {
    const { registry, appended } = registryWithTwoPendingRetries();
    const forgotten: string[] = [];
    const metricsHistory = { forgetClient: async (clientId: ClientId) => (forgotten.push(clientId), { outcome: 'removed' as const, series: 1, detail: 'deleted' }) };
    const results = await retryMetricsDeletions({ registry, metricsHistory, logger: createSilentLogger(), clock: { now: () => new Date(AT) }, guard: new ClientOperationGuard() });
    assert.deepEqual(forgotten, ['beta']);
    assert.deepEqual(results, [{ clientId: 'alpha', outcome: 'error' }, { clientId: 'beta', outcome: 'removed' }]);
    assert.deepEqual(appended.map((entry) => [entry.clientId, entry.outcome]), [['beta', 'success']]);
  });

  test('does not stop the silence expiry of the others', async () => {
    const { registry, appended } = registryWithTwoPendingRetries();
    const expired: string[] = [];
    const alertSilences = { expireClientSilences: async (clientId: ClientId) => (expired.push(clientId), { outcome: 'expired' as const, silences: 1, detail: 'expired 1' }) };
    const results = await retrySilencesExpiries({ registry, alertSilences, logger: createSilentLogger(), guard: new ClientOperationGuard() });
    assert.deepEqual(expired, ['beta']);
    assert.deepEqual(results, [{ clientId: 'alpha', outcome: 'error' }, { clientId: 'beta', outcome: 'expired' }]);
    assert.deepEqual(appended.map((entry) => [entry.clientId, entry.outcome]), [['beta', 'success']]);
  });
});

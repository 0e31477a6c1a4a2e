// A purge at the end of the retention period reaches what an erasure reaches: the egress proxy's refusal log
// (rotated only by size, it kept a purged client's lines indefinitely) and the client portal (its admins'
// passkeys, sessions and enrolment links, used ones included, and its used one-tap links). A purge cut off
// after it deleted the registry row of a client never closed before (`deprovision --purge`) left nothing that
// named it: it now records its start first, and the retention run finishes it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AlertmanagerAlertSilences } from '../../../orchestrator/src/adapters/alertmanager/alertmanager-alert-silences.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { SqlPortalStore } from '../../../orchestrator/src/adapters/sql/sql-portal-store.ts';
import type { OpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService, type DeprovisionDependencies } from '../../../orchestrator/src/services/deprovision-client.ts';
import { closureDates, enforceRetention, unfinishedPurges } from '../../../orchestrator/src/services/enforce-retention.ts';
import { purgeClientStores, type ClientStores } from '../../../orchestrator/src/services/purge-client-stores.ts';
import { idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';
import { silence, startAlertmanagerEmulator } from './alertmanager-emulator.ts';
import { dyingAfterRowDeletion } from '../../helpers/registry-faults.ts';

const ACME = parseClientId('acme');
const OTHER = parseClientId('acme-two');
const NOW = new Date('2026-12-10T02:30:00.000Z');
const LATER = new Date(NOW.getTime() + 3_600_000);
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
const PORTAL_TABLES = ['portal_enrolments', 'portal_credentials', 'portal_sessions', 'portal_used_links'] as const;

/** Every kind of row the portal keeps of a client: a used enrolment link, its passkey, a session and a used one-tap link. */
async function seedPortal(store: SqlPortalStore, clientId: ClientId, email: string): Promise<void> {
  const enrolment = hashOf(`enrolment ${clientId}`);
  await store.enrolments.createEnrolment({ clientId, email, tokenHash: enrolment, createdAt: NOW, expiresAt: LATER });
  assert.ok(await store.enrolments.consumeEnrolment(enrolment, NOW));
  await store.credentials.addCredential({ id: `passkey-${clientId}`, clientId, email, kind: 'passkey', lookupHash: hashOf(`key ${clientId}`), sealed: 'sealed', confirmed: true, enrolmentHash: enrolment, createdAt: NOW });
  await store.sessions.createSession({ idHash: hashOf(`session ${clientId}`), stage: 'active', clientId, email, enrolmentHash: null, now: NOW, expiresAt: LATER });
  assert.equal(await store.links.useLinkNonce(hashOf(`link ${clientId}`), clientId, LATER, NOW), true);
}

async function portalRowsOf(sql: SqlExecutor, clientId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of PORTAL_TABLES) {
    const [row] = await sql.query<{ count: number | string }>(`SELECT count(*) AS count FROM ${table} WHERE client_id = $1`, [clientId]);
    counts[table] = Number(row?.count);
  }
  return counts;
}

const none = Object.fromEntries(PORTAL_TABLES.map((table) => [table, 0]));
const oneEach = Object.fromEntries(PORTAL_TABLES.map((table) => [table, 1]));

function deprovisioning(registry: Registry, extra: Partial<DeprovisionDependencies> = {}, guard = new ClientOperationGuard()) {
  return new DeprovisionClientService({
    registry,
    runtime: idleContainerRuntime(),
    targets: { unregister: async () => undefined } as never,
    guard,
    clock: { now: () => NOW },
    logger: createSilentLogger(),
    ...extra,
  });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`what a purge reaches (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, async (registry) => {
      await registerActiveClient(registry, ACME, 'jane@acme.example');
      await registerActiveClient(registry, OTHER, 'lee@acme-two.example');
    });
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'purge-reach-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    test("a purge removes the client's egress refusals and everything the portal keeps of it, and only its", async () => {
      await opened.sql.query(`TRUNCATE ${PORTAL_TABLES.join(', ')}`);
      const portal = new SqlPortalStore(opened.sql, registrySealer(randomBytes(32)));
      await seedPortal(portal, ACME, 'jane@acme.example');
      await seedPortal(portal, OTHER, 'lee@acme-two.example');
      const refusals = new EgressRefusalLog(path.join(dir, 'refused.jsonl'));
      for (const client of [ACME, OTHER, ACME]) {
        await refusals.append({ at: NOW.toISOString(), client, host: 'paste.example', port: 443, reason: 'not_allowed', source: '10.90.0.2' });
      }
      const stores: ClientStores = {
        registry: opened.registry,
        grants: { revoke: async (_clientId, provider) => ({ provider, outcome: 'revoked', detail: 'revoked' }) },
        backups: { deleteAll: async () => 0 },
        evidence: { deleteClientBundles: async () => 0 },
        incidents: { forgetClientRecipients: async () => 0 },
        egressRefusals: refusals,
        portal,
        secrets: { removeClient: async () => undefined },
        logger: createSilentLogger(),
      };

      await deprovisioning(opened.registry, { extension: { onPurge: (clientId) => purgeClientStores(stores, clientId) } }).deprovision({ clientId: ACME, purge: true, actor: 'retention' });

      const lines = (await readFile(refusals.file, 'utf8')).trim().split('\n').map((line) => (JSON.parse(line) as { client: string }).client);
      assert.deepEqual(lines, [OTHER], "only the other client's refusal is left");
      assert.deepEqual(await portalRowsOf(opened.sql, ACME), none, 'the used enrolment link (the admin’s sealed address) is gone too');
      assert.deepEqual(await portalRowsOf(opened.sql, OTHER), oneEach);
    });

    test('a purge of a client never closed, cut off after it deleted the row, is finished by the next retention run', async () => {
      const alertmanager = await startAlertmanagerEmulator([silence('a1', [['client', ACME]]), silence('b1', [['client', OTHER]])]);
      try {
        const guard = new ClientOperationGuard();
        const alertSilences = new AlertmanagerAlertSilences({ url: alertmanager.url });
        await assert.rejects(deprovisioning(dyingAfterRowDeletion(opened.registry), { alertSilences }).deprovision({ clientId: ACME, purge: true, actor: 'ops:frank', reason: 'wrong client made' }));
        assert.equal(await opened.registry.getClient(ACME), null, 'the row was deleted before the cut');
        assert.equal(alertmanager.silences.find((each) => each.id === 'a1')?.status.state, 'active', 'its silences were still to be expired');

        // The same day: the purge was decided already, the retention period has nothing to do with it.
        const run = await enforceRetention({ registry: opened.registry, deprovision: deprovisioning(opened.registry, { alertSilences }, guard), clock: { now: () => NOW }, logger: createSilentLogger(), retentionDays: 90, guard });
        assert.deepEqual(run, [ACME]);
        assert.deepEqual(Object.fromEntries(alertmanager.silences.map((each) => [each.id, each.status.state])), { a1: 'expired', b1: 'active' });
        const done = (await opened.registry.listOpsLog({ clientId: ACME, actions: ['deprovision-purge'] })).filter((entry) => entry.outcome === 'success');
        assert.deepEqual(done.map((entry) => entry.actor), ['retention']);
        assert.match(done[0]?.reason ?? '', /^retention: finishing the purge started \d{4}-\d{2}-\d{2}$/);
        assert.equal((await opened.registry.getClient(OTHER))?.status, 'active', 'an active client is never touched');

        const again = await enforceRetention({ registry: opened.registry, deprovision: deprovisioning(opened.registry, { alertSilences }, guard), clock: { now: () => NOW }, logger: createSilentLogger(), retentionDays: 90, guard });
        assert.deepEqual(again, [], 'nothing is purged twice');
      } finally {
        await alertmanager.close();
      }
    });
  });
}

describe('unfinished purges of clients never closed (pure)', () => {
  let seq = 0;
  const entry = (action: string, clientId: string, at: string, outcome = 'success'): OpsLogEntry => {
    seq += 1;
    return { seq, at, actor: 'ops', action, clientId, reason: null, outcome, details: {}, prevHash: '', hash: '' };
  };
  const at = '2026-12-01T10:00:00.000Z';
  const later = '2026-12-02T10:00:00.000Z';

  test('a started purge with no row and no deletion after it is unfinished; one finished, provisioned since or with a row is not', () => {
    const log = [
      entry('deprovision-purge', 'cut', at, 'started'),
      entry('deprovision-purge', 'cut', later, 'started'),
      entry('deprovision-purge', 'done', at, 'started'),
      entry('deprovision-purge', 'done', at),
      entry('deprovision-purge', 'remade', at, 'started'),
      entry('provision', 'remade', later),
      entry('deprovision-purge', 'failed-early', at, 'started'),
    ];
    const purges = unfinishedPurges(closureDates(log), [{ id: parseClientId('failed-early') }], log);
    assert.deepEqual(purges, [{ clientId: 'cut', since: at, purgeStartedAt: at }]);
  });

  test('a closed client whose purge started keeps its closure as the start of its retention period', () => {
    const log = [entry('deprovision', 'closed', at), entry('deprovision-purge', 'closed', later, 'started')];
    assert.deepEqual(unfinishedPurges(closureDates(log), [], log), [{ clientId: 'closed', since: at, purgeStartedAt: later }]);
  });
});

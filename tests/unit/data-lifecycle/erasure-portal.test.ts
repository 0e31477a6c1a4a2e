// An erasure forgot the portal admins it could find among those holding a credential, a session or an unused
// enrolment link: an admin whose only row left was a used, unexpired enrolment link (its sealed address kept
// until the link expired) was missed. The erasure now deletes every portal row of the client, and its
// certificate says what is kept of the client and why.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlPortalStore } from '../../../orchestrator/src/adapters/sql/sql-portal-store.ts';
import { EraseClientService } from '../../../orchestrator/src/services/erasure/erase-client.ts';
import { containerOnlyKill, erasureStandIns, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';

const ACME = parseClientId('acme');
const NOW = new Date('2026-12-10T12:00:00.000Z');
const LATER = new Date(NOW.getTime() + 24 * 3_600_000);
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`an erasure and the client portal (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, (registry) => registerActiveClient(registry, ACME, 'jane@acme.example'));

    test('deletes an admin whose only row is a used enrolment link that has not expired', async () => {
      await opened.sql.query('TRUNCATE portal_enrolments, portal_credentials, portal_sessions, portal_used_links');
      const portal = new SqlPortalStore(opened.sql, registrySealer(randomBytes(32)));
      for (const [clientId, email] of [[ACME, 'jane@acme.example'], ['acme-two', 'lee@acme-two.example']] as const) {
        const token = hashOf(`enrolment ${clientId}`);
        await portal.enrolments.createEnrolment({ clientId, email, tokenHash: token, createdAt: NOW, expiresAt: LATER });
        assert.ok(await portal.enrolments.consumeEnrolment(token, NOW), 'the link is used');
      }
      const rowsOf = async (clientId: string) => (await opened.sql.query('SELECT token_hash FROM portal_enrolments WHERE client_id = $1', [clientId])).length;

      const outcome = await new EraseClientService({ ...erasureStandIns(opened.registry, ACME), kill: containerOnlyKill(ACME), portal, clock: { now: () => NOW } }).erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' });

      assert.equal(outcome.outcome, 'erased');
      assert.equal(await rowsOf(ACME), 0, "the admin's sealed address is gone with the link");
      assert.equal(await rowsOf('acme-two'), 1, "another client's link stays");
      const certificate = outcome.outcome === 'erased' ? outcome.certificate : assert.fail('not erased');
      assert.match(certificate.steps.find((step) => step.what === 'portal')?.detail ?? '', /^1 admins'/);
    });

    test('the certificate says what is kept of the client and why', async () => {
      const outcome = await new EraseClientService({ ...erasureStandIns(opened.registry, ACME), kill: containerOnlyKill(ACME), clock: { now: () => NOW } }).erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' });
      const kept = outcome.outcome === 'erased' ? (outcome.certificate.kept ?? []).join('\n') : assert.fail('not erased');
      assert.match(kept, /tombstone and this certificate/);
      assert.match(kept, /sign-in counts: kept under a one-way key/);
      assert.match(kept, /Alertmanager's alerts and expired silences/);
    });
  });
}

import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { evidenceDirectory, evidenceFileName } from '../../../orchestrator/src/services/incidents/evidence-files.ts';
import { checkpointSettings } from '../../../orchestrator/src/services/settings/settings-checkpoint.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { createFleetFixture, resourcesOf, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';

const DAY_MS = 86_400_000;

describe('log retention after account closure', () => {
  let now = new Date('2026-11-23T10:00:00Z');
  let fleet: FleetFixture;
  const used: string[] = [];
  before(async () => {
    fleet = await createFleetFixture({ RETENTION_DAYS: '90' }, { clock: { now: () => now } });
  });
  after(() => fleet.cleanup(used));

  test("a closed client's data is kept for the retention period, then deleted for good", async () => {
    const clientId = uniqueClientId('ret');
    const kept = uniqueClientId('ret');
    used.push(clientId, kept);
    await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    await fleet.orchestrator.provision.provision({ clientId: kept, actor: 'test' });
    await fleet.orchestrator.secrets.set({ clientId, name: 'anthropic', value: 'sk-test-retention', actor: 'test' });
    // What a client admin did is in the ops log while the client is kept (the portal names them by address).
    const admin = `admin-${clientId}@client.example`;
    await fleet.orchestrator.registry.appendOpsLog({ actor: `client-admin:${admin}`, action: 'kill', clientId, reason: `${admin}: odd sends`, outcome: 'success', details: { by: admin } });
    await fleet.orchestrator.deprovision.deprovision({ clientId, purge: false, actor: 'test', reason: 'contract ended' });
    assert.deepEqual(await resourcesOf(clientId), [`volume ${resourceNames(clientId).volume}`]);

    // A sealed incident evidence bundle of the client (what `fleet incident evidence` writes), and one of the kept client.
    const bundle = path.join(evidenceDirectory(fleet.homeDir), 'INC-1', evidenceFileName(clientId, '20261123T100000Z', 'abc123'));
    const keptBundle = path.join(path.dirname(bundle), evidenceFileName(kept, '20261123T100000Z', 'abc123'));
    await mkdir(path.dirname(bundle), { recursive: true });
    await writeFile(bundle, 'evidence');
    await writeFile(keptBundle, 'evidence');
    // An incident of both clients, each told of it: the purged client's person leaves the record, the kept client's stays.
    const { incident } = await fleet.orchestrator.incidents.incidents.open({ severity: 'low', summary: 'odd sends', clients: [clientId, kept], actor: 'test' });
    for (const told of [clientId, kept]) await fleet.orchestrator.incidents.incidents.notify({ id: incident.id, clientId: told, channel: 'email', recipient: `it-lead@${told}.example`, actor: 'test' });

    now = new Date(now.getTime() + 89 * DAY_MS);
    assert.deepEqual(await fleet.orchestrator.enforceRetention(), [], 'kept within the period: the client can still ask for an export');
    assert.deepEqual(await resourcesOf(clientId), [`volume ${resourceNames(clientId).volume}`]);

    now = new Date(now.getTime() + 2 * DAY_MS);
    assert.deepEqual(await fleet.orchestrator.enforceRetention(), [clientId]);
    assert.deepEqual(await resourcesOf(clientId), [], 'volume (audit log, state) deleted');
    assert.equal(await fleet.orchestrator.registry.getClient(clientId), null);
    assert.deepEqual(await fleet.orchestrator.secretBackend.store.listSecrets(clientId), [], 'secrets deleted');
    await assert.rejects(stat(bundle), { code: 'ENOENT' }, 'incident evidence deleted');
    assert.ok((await stat(keptBundle)).isFile(), "the kept client's evidence stays");
    assert.deepEqual((await fleet.orchestrator.incidents.incidents.require(incident.id)).notifications.map((n) => [n.clientId, n.recipient]), [[clientId, '(erased)'], [kept, `it-lead@${kept}.example`]]);
    const purge = (await fleet.orchestrator.registry.listOpsLog({ clientId })).at(-1);
    assert.equal(purge?.action, 'deprovision-purge');
    assert.equal(purge?.actor, 'retention');
    // The logs are deleted at the end of the period: the entries stay (what, when, outcome), their personal fields go.
    const entries = await fleet.orchestrator.registry.listOpsLog({ clientId });
    assert.ok(entries.some((entry) => entry.action === 'kill' && entry.actor === 'erased' && entry.reason === null && entry.erasedAt !== undefined));
    assert.doesNotMatch(JSON.stringify(entries), new RegExp(admin));
    assert.ok(Number(purge?.details['opsLogEntriesErased']) >= 2, 'at least the kill and the closure with its reason');
    assert.equal(verifyOpsLog(await fleet.orchestrator.registry.listOpsLog()).valid, true);
    assert.equal((await fleet.orchestrator.registry.getClient(kept))?.status, 'active', 'an active client is never touched');
  });

  test('a client purged and made again under the same id starts a new settings history, not a "rewritten" one', async () => {
    const clientId = uniqueClientId('ret');
    used.push(clientId);
    const { orchestrator } = fleet;
    await orchestrator.provision.provision({ clientId, actor: 'test' });
    const checkpoint = () => checkpointSettings({ registry: orchestrator.registry, settings: orchestrator.settings, logger: createSilentLogger() }, clientId);
    assert.equal(await checkpoint(), 'saved');
    const shown = await orchestrator.settings.show(clientId);
    const blockList = [...(shown.version.config.blockList ?? []), 'pest@old-life.example'];
    await orchestrator.settings.change({ clientId, baseVersion: shown.version.version, document: { json: { ...shown.version.config, blockList } }, reason: 'first life', confirm: [], author: { kind: 'operator', id: 'ops' }, actor: 'ops', via: 'api' });
    assert.equal(await checkpoint(), 'unchanged', 'the change is recorded as it is made');

    await orchestrator.deprovision.deprovision({ clientId, purge: true, actor: 'test' });
    await orchestrator.provision.provision({ clientId, actor: 'test' });
    // The new agent's history starts at version 1 again: the old life's head, erased with its details, is not taken for this one's.
    assert.equal(await checkpoint(), 'saved');
    const log = await orchestrator.registry.listOpsLog({ clientId });
    assert.ok(!log.some((entry) => entry.action === 'config-checkpoint' && entry.outcome === 'failed'), 'no "rewritten history" recorded');
    assert.equal(verifyOpsLog(await orchestrator.registry.listOpsLog()).valid, true);
  });
});


describe('a purge revokes the mailbox grant at the provider, as an erasure does', () => {
  let now = new Date('2026-11-23T10:00:00Z');
  let fleet: FleetFixture;
  const gmail = new GmailEmulator({ mailbox: 'ops@client.example' });
  const used: string[] = [];
  before(async () => {
    await gmail.start({ host: '127.0.0.1' });
    fleet = await createFleetFixture({ RETENTION_DAYS: '90' }, { clock: { now: () => now }, googleRevokeUrl: gmail.revokeUrl });
  });
  after(async () => {
    await fleet?.cleanup(used);
    await gmail.stop();
  });

  test('the Gmail refresh token of a client purged after the retention period no longer works at Google', async () => {
    const clientId = uniqueClientId('ret');
    used.push(clientId);
    const { orchestrator } = fleet;
    await orchestrator.provision.provision({ clientId, actor: 'test' });
    const refreshToken = gmail.issueRefreshToken(['https://www.googleapis.com/auth/gmail.readonly']);
    const grant = { client_id: gmail.clientId, client_secret: gmail.clientSecret, refresh_token: refreshToken };
    await orchestrator.secrets.set({ clientId, name: 'gmail', value: JSON.stringify(grant), actor: 'test' });
    await orchestrator.deprovision.deprovision({ clientId, purge: false, actor: 'test', reason: 'contract ended' });
    assert.equal(gmail.refreshTokenActive(refreshToken), true, 'a closure alone keeps the grant (the client may still ask for an export)');

    now = new Date(now.getTime() + 91 * DAY_MS);
    assert.deepEqual(await orchestrator.enforceRetention(), [clientId]);
    assert.equal(gmail.refreshTokenActive(refreshToken), false, 'revoked at Google, not only deleted from the secret store');
    assert.deepEqual(await orchestrator.secretBackend.store.listSecrets(clientId), []);
  });
});

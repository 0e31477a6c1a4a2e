// Erasure on request on a real agent container: everything of the client goes, its Gmail grant is revoked at
// the (strict) emulated Google, its key is destroyed so its old backups stay unreadable, and no plaintext of
// its mail is left in the fleet home, any Docker volume, the registry, the Vault store, the logs or backups.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DirectoryBackupStore } from '../../../orchestrator/src/adapters/backup-directory/directory-backup-store.ts';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultKeyWrapper } from '../../../orchestrator/src/adapters/vault/vault-key-wrapper.ts';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { ServicesSettingsGateway } from '../../../orchestrator/src/portal/gateway/services-settings-gateway.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { docker, resourcesOf } from '../../helpers/fleet-fixture.ts';
import { filesContaining } from '../../helpers/marker-scan.ts';
import { KNOWN } from '../agent/agent-harness.ts';
import { jsonLines, readArchive } from './archive-files.ts';
import { lifecycleClient, type LifecycleClient } from './lifecycle-bed.ts';

const tag = `zq${randomBytes(5).toString('hex')}`;
// The mail's words and sender, and an address only the client's config holds (in the registry's row of it).
const BLOCKED = `spam-${tag}@${tag}-list.example`;
// A client admin's address and a sender they block in the portal: the ops log names them until the erasure.
const ADMIN = `admin-${tag}@${tag}-client.example`;
const BLOCKED_IN_PORTAL = `pest-${tag}@${tag}-list.example`;
// Who at the client was told of an incident (its notification, and the ops-log entry of it).
const TOLD = `Dana ${tag}, head of IT`;
const MARKERS = [`Quarterly ${tag} forecast`, `review the ${tag} numbers before Friday`, `cfo-${tag}@${tag}.example`, BLOCKED, ADMIN, BLOCKED_IN_PORTAL, TOLD];

describe('erasure of a client on a real agent container', () => {
  let bed: LifecycleClient;
  let outside: string;
  before(async () => {
    outside = await mkdtemp(path.join(os.tmpdir(), 'fleet-erase-outside-'));
    bed = await lifecycleClient({ octet: 233, stem: 'er', logToFile: true, config: { blockList: [BLOCKED] } });
  });
  after(async () => {
    await bed?.cleanup();
    await rm(outside, { recursive: true, force: true });
  });

  it('erases everything, revokes the grant, shreds the key and leaves no plaintext anywhere', { timeout: 900_000 }, async () => {
    const { orchestrator } = bed.fleet;
    const clientId = bed.clientId;
    await bed.seed({ from: `cfo-${tag}@${tag}.example`, subject: MARKERS[0] ?? '', text: `Hello, please ${MARKERS[1]}.` });
    await bed.seed({ from: KNOWN, subject: `Re: ${MARKERS[0]}`, text: `Also cc cfo-${tag}@${tag}.example and ${MARKERS[1]}.` });
    await bed.processInboxAndSendOne();
    await bed.auditUntil('the marked mail to be read', (records) => records.filter((record) => record.action_type === 'approval_requested').length >= 6);

    // A client admin blocks a sender in the portal: the ops log records who did it and what changed.
    const portalSettings = new ServicesSettingsGateway({ settings: orchestrator.settings, registry: orchestrator.registry });
    const current = await portalSettings.current(clientId);
    const blockList = [...(current.config.blockList ?? []), BLOCKED_IN_PORTAL];
    await portalSettings.change(clientId, { baseVersion: current.version, document: { ...current.config, blockList }, reason: `${ADMIN} asked for it`, confirm: [] }, ADMIN);
    const named = (await orchestrator.registry.listOpsLog({ clientId })).filter((entry) => JSON.stringify(entry).includes(ADMIN));
    assert.ok(named.some((entry) => entry.actor === `client-admin:${ADMIN}` && JSON.stringify(entry.details).includes(BLOCKED_IN_PORTAL)), 'the change is logged with its admin and values');

    // A backup (a copy kept aside, as an attacker or a stale disk might) and an export, both before the erasure.
    const backup = JSON.parse((await bed.cli(['--json', 'backup', clientId])).stdout) as { backupId: string };
    await mkdir(path.join(outside, 'backups', clientId), { recursive: true });
    await copyFile(path.join(bed.fleet.homeDir, 'backups', clientId, `${backup.backupId}.afbk`), path.join(outside, 'backups', clientId, `${backup.backupId}.afbk`));
    await bed.grantSupport(bed.member.name);
    const archive = path.join(outside, 'export.tar');
    assert.equal((await bed.cli(['export', clientId, '--out', archive])).code, 0);
    // The scan finds plaintext where it is: the subject and the address are in the client's own export
    // (inbound bodies are never kept by the fleet, only by the mailbox).
    const inExport = (await filesContaining([outside], MARKERS)).filter((hit) => hit.file === archive).map((hit) => hit.marker);
    assert.ok(inExport.includes(MARKERS[0] ?? '') && inExport.includes(MARKERS[2] ?? ''), JSON.stringify(inExport));

    // An incident concerning the client, with its evidence sealed: the archive inside holds the ops-log slice (the admin,
    // the values); the file kept is encrypted under the client's key.
    const { incident } = await orchestrator.incidents.incidents.open({ severity: 'low', summary: 'odd block-list change', clients: [clientId], actor: 'test' });
    const sealed = await orchestrator.incidents.evidence.seal({ id: incident.id, clientId, actor: 'test' });
    const bundleFile = sealed.bundles[0]?.file ?? '';
    const copied: Buffer[] = [];
    await orchestrator.incidents.evidence.copy({ id: incident.id, bundle: path.basename(bundleFile), actor: 'test' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { copied.push(chunk); done(); } }));
    assert.ok(Buffer.concat(copied).includes(ADMIN), 'the archive inside names the admin');
    assert.deepEqual(await filesContaining([path.dirname(bundleFile)], [ADMIN]), [], 'the bundle kept does not');
    await orchestrator.incidents.incidents.notify({ id: incident.id, clientId, channel: 'phone', recipient: TOLD, actor: 'test' });

    // The request arrived 28 days ago: its deadline is tracked until the erasure.
    const received = new Date(Date.now() - 28 * 86_400_000).toISOString();
    assert.equal((await bed.cli(['erase', 'request', clientId, '--request-id', 'DSR-7', '--received', received])).code, 0);
    const deadline = Date.parse(received) / 1000 + 30 * 86_400;
    assert.match(await orchestrator.metrics.metrics(), new RegExp(`fleet_erasure_request_deadline_timestamp_seconds\\{client="${clientId}",request="DSR-7"\\} ${deadline}`));
    const grant = (await createVaultClient({ endpoint: orchestrator.secretBackend.embedded?.url ?? '', token: orchestrator.secretBackend.embedded?.rootToken ?? '', caPem: orchestrator.secretBackend.embedded?.caCertificatePem }).read(`fleet/data/${clientId}/gmail`)) as { data: { data: { value: string } } };
    const refreshToken = (JSON.parse(grant.data.data.value) as { refresh_token: string }).refresh_token;
    assert.equal(bed.gmail.refreshTokenActive(refreshToken), true, 'the stored grant works before the erasure');

    // An erasure never overlaps a backup of the same client, which would keep what the erasure removes.
    const backingUp = orchestrator.dataLifecycle.backups.backup({ clientId, actor: 'test' });
    await assert.rejects(orchestrator.dataLifecycle.erasure.erase({ clientId, requestId: 'DSR-7', actor: 'test' }), (error) => isFleetError(error) && error.code === 'busy' && /a backup is in progress/.test(error.message));
    assert.equal((await backingUp).frozen, true);

    const run = await bed.cli(['--json', 'erase', clientId, '--request-id', 'DSR-7']);
    assert.equal(run.code, 0, run.stderr);
    const erased = JSON.parse(run.stdout) as { outcome: string; certificate: { withinDeadline: boolean; tombstoneSha256: string; steps: { what: string; outcome: string; detail: string }[] } };
    assert.equal(erased.outcome, 'erased');
    assert.equal(erased.certificate.withinDeadline, true);
    const step = (what: string) => erased.certificate.steps.find((candidate) => candidate.what === what)?.outcome;
    assert.equal(step('kill'), 'killed');
    assert.equal(step('oauth-grant'), 'revoked');
    assert.equal(step('data-key'), 'destroyed');
    assert.match(erased.certificate.steps.find((candidate) => candidate.what === 'registry')?.detail ?? '', /gone from the database files and its write-ahead log/);
    assert.equal(step('ops-log'), 'erased');
    assert.match(erased.certificate.steps.find((candidate) => candidate.what === 'incident-evidence')?.detail ?? '', /^1 sealed evidence bundles deleted/);
    await assert.rejects(stat(bundleFile), { code: 'ENOENT' });
    assert.equal((await orchestrator.incidents.incidents.require(incident.id)).evidence[0]?.sha256, sealed.bundles[0]?.sha256, 'the incident keeps the digest');
    assert.match(erased.certificate.steps.find((candidate) => candidate.what === 'incident-records')?.detail ?? '', /^1 notification recipients forgotten/);
    assert.deepEqual((await orchestrator.incidents.incidents.require(incident.id)).notifications.map((n) => [n.clientId, n.channel, n.recipient]), [[clientId, 'phone', '(erased)']], 'the incident keeps that and how the client was told, not whom');
    // The ops log keeps what happened (every entry, its time and outcome) and still verifies; not who on the client's side, nor the values.
    const opsLog = await orchestrator.registry.listOpsLog();
    assert.equal(verifyOpsLog(opsLog).valid, true);
    const clientEntries = opsLog.filter((entry) => entry.clientId === clientId);
    assert.ok(clientEntries.some((entry) => entry.action === 'config-change' && entry.actor === 'erased' && entry.erasedAt !== undefined));
    assert.doesNotMatch(JSON.stringify(clientEntries), new RegExp(`${ADMIN}|${BLOCKED_IN_PORTAL}`));
    assert.match(await orchestrator.metrics.metrics(), /fleet_erasure_requests_open 0/);
    assert.doesNotMatch(await orchestrator.metrics.metrics(), new RegExp(`request="DSR-7"`));

    // Google no longer honours the grant (the emulator's token endpoint is gone with the client's network).
    assert.equal(bed.gmail.refreshTokenActive(refreshToken), false);

    // Nothing of the client is left on the engine, in Vault or in the registry but the tombstone.
    assert.deepEqual(await resourcesOf(clientId), []);
    assert.equal(await orchestrator.registry.getClient(clientId), null);
    assert.deepEqual(await orchestrator.secretBackend.store.listSecrets(clientId), []);
    assert.deepEqual(await orchestrator.dataLifecycle.backupStore.list(clientId), []);
    const oldBackups = new BackupService({
      store: new DirectoryBackupStore({ root: path.join(outside, 'backups'), logger: createSilentLogger() }),
      keys: new VaultKeyWrapper({ client: createVaultClient({ endpoint: orchestrator.secretBackend.embedded?.url ?? '', token: orchestrator.secretBackend.embedded?.rootToken ?? '', caPem: orchestrator.secretBackend.embedded?.caCertificatePem }), logger: createSilentLogger() }),
      clock: { now: () => new Date() },
      logger: createSilentLogger(),
    });
    await assert.rejects(oldBackups.verify(clientId, backup.backupId), (error) => isFleetError(error) && error.code === 'integrity' && /key was destroyed/.test(error.message));

    // The export of an erased client is its certificate and ops log, still signed.
    const tombstone = path.join(outside, 'tombstone.tar');
    assert.equal((await bed.cli(['export', clientId, '--out', tombstone])).code, 0);
    const certificate = JSON.parse(((await readArchive(tombstone)).get('erasure/deletion-certificate.json') ?? '').toString()) as { tombstoneSha256: string };
    assert.equal(certificate.tombstoneSha256, erased.certificate.tombstoneSha256);
    assert.ok(jsonLines((await readArchive(tombstone)).get('ops-log/ops-log.jsonl')).some((entry) => entry['action'] === 'erase'));

    // Twice, or an unknown client: a clear no-op.
    const again = await bed.cli(['erase', clientId, '--request-id', 'DSR-7']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already erased at .* \(nothing to do\)/);
    const unknown = await bed.cli(['erase', 'nobody-here', '--request-id', 'DSR-8']);
    assert.equal(unknown.code, 0);
    assert.match(unknown.stdout, /nobody-here: no such client \(nothing erased\)/);

    await rm(archive);
    const roots = [bed.fleet.homeDir, path.dirname(bed.logFile ?? ''), '/var/lib/docker/volumes', '/var/lib/docker/containers', outside];
    assert.deepEqual(await filesContaining(roots, MARKERS), [], 'no plaintext marker anywhere');
    assert.equal((await docker.listVolumes({ filters: { name: [`fleet-${clientId}-data`] } })).Volumes?.length ?? 0, 0);
  });
});

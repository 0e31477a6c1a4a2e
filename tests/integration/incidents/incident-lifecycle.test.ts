// An incident from open to report against a real agent container, driven through the `fleet` CLI as an
// operator runs it: the clocks in /metrics (and a promtool test from their live values), a support grant
// linked to the incident, a sealed evidence bundle that verifies, containment that stops the agent and
// kills its Vault token, the revoked mailbox grant, notification, closing and the final report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { SupportGrant } from '../../../orchestrator/src/services/support-access.ts';
import type { ContainResult } from '../../../orchestrator/src/services/incidents/incident-containment.ts';
import type { EvidenceResult } from '../../../orchestrator/src/services/incidents/incident-evidence.ts';
import type { IncidentView } from '../../../orchestrator/src/services/incidents/incident-service.ts';
import { verifyExportArchive } from '../../../orchestrator/src/services/export/export-archive-verifier.ts';
import { readTarEntry } from '../../../orchestrator/src/services/incidents/bundle-reader.ts';
import { docker, uniqueClientId } from '../../helpers/fleet-fixture.ts';
import { seriesValue, startIncidentBed, type IncidentBed } from './incident-harness.ts';
import { writeLiveRuleTest, type LiveClock } from './live-rule-test.ts';

const ADMIN = 'boss@client.example';
const DEADLINE = 'fleet_incident_deadline_seconds';

describe('an incident from open to report, on a real agent', () => {
  let bed: IncidentBed;
  let work: string;
  const clientId = uniqueClientId('inc');

  before(async () => {
    bed = await startIncidentBed();
    work = await mkdtemp(path.join(os.tmpdir(), 'fleet-incident-test-'));
  });
  after(async () => {
    await bed.close([clientId]);
    await rm(work, { recursive: true, force: true });
  });

  test('open, link a grant, seal evidence, contain, confirm, notify, close, report', { timeout: 300_000 }, async () => {
    const { fleet } = bed;
    const provisioned = await fleet.orchestrator.provision.provision({ clientId, configYaml: `client: ${clientId}\nadmins: [${ADMIN}]\n`, actor: 'test' });
    assert.equal(provisioned.outcome, 'provisioned');
    const refreshToken = `1//rt-${createHash('sha256').update(clientId).digest('hex')}`;
    await fleet.orchestrator.secrets.set({ clientId, name: 'gmail', value: JSON.stringify({ client_id: 'cid', client_secret: 'cs', refresh_token: refreshToken }), actor: 'test' });
    const controlToken = await fleet.orchestrator.secretBackend.store.readControlToken(clientId);
    assert.ok(controlToken);

    // Open: the clocks start and show in /metrics.
    const opened = await bed.cliJson<IncidentView>('incident', 'open', '--severity', 'critical', '--summary', 'Replies sent to unknown <domains>', '--client', clientId);
    const id = opened.incident.id;
    assert.match(id, /^INC-\d+$/);
    assert.deepEqual(opened.clocks.map((c) => [c.name, c.state]), [['response', 'running'], ['assessment', 'running'], ['notification', 'waiting'], ['report', 'running']]);
    const atOpen = await bed.scrape();
    const live = (clock: string, exposition: string) => seriesValue(exposition, DEADLINE, { incident: id, clock, incident_severity: 'critical' });
    for (const [clock, window] of [['response', 3600], ['assessment', 14_400], ['report', 604_800]] as const) {
      const value = live(clock, atOpen);
      assert.ok(value !== undefined && value <= window && value > window - 120, `${clock} deadline in /metrics: ${value}`);
    }
    assert.equal(live('notification', atOpen), undefined, 'no notification clock before a confirmation');
    const liveClocks: LiveClock[] = (['response', 'assessment', 'report'] as const).map((clock) => ({ incident: id, clock, incident_severity: 'critical', value: live(clock, atOpen)! }));

    // Support access names an open incident of this client, and is linked to it.
    const unknown = await bed.cli('support', 'request', clientId, '--incident', 'INC-999999', '--reason', 'evidence');
    assert.equal(unknown.code, 3, unknown.err);
    assert.match(unknown.err, /no incident INC-999999/);
    const grant = await bed.cliJson<SupportGrant>('support', 'request', clientId, '--incident', id, '--reason', 'incident evidence', '--hours', '2');
    // A client admin approves it (in the portal; here through the same service).
    await fleet.orchestrator.support.approve({ clientId, grantId: grant.id, by: ADMIN, actor: ADMIN });
    assert.deepEqual((await bed.cliJson<IncidentView>('incident', 'show', id)).grants.map((g) => [g.id, g.status]), [[grant.id, 'active']]);

    // Evidence: a signed export-format bundle, encrypted at rest under the client's key, whose digests are in the ops log.
    const sealed = await bed.cliJson<EvidenceResult>('incident', 'evidence', id);
    const bundle = sealed.bundles[0];
    assert.ok(bundle?.archiveSha256);
    const atRest = await readFile(bundle.file);
    assert.equal(createHash('sha256').update(atRest).digest('hex'), bundle.sha256);
    assert.equal(atRest.subarray(0, 4).toString(), 'AFBK', 'the bundle at rest is the encrypted envelope');
    for (const plain of ['ustar', 'audit/audit-log.jsonl', 'runtime/inspect.json', ADMIN]) {
      assert.ok(!atRest.includes(plain), `no ${plain} in the file at rest`);
    }
    assert.equal((await verifyExportArchive(createReadStream(bundle.file), await bed.publicKeyPem(), { clientId })).ok, false, 'the file kept is not a readable archive');
    const included = Object.fromEntries(bundle.parts.map((p) => [p.part, p.file]));
    for (const part of ['audit chain verification', 'audit export', 'ops-log slice', 'ops-log verification', 'runtime state', 'runtime inspect', 'agent logs', 'orchestrator metrics', 'agent metrics']) {
      assert.ok(included[part], `${part} is in the bundle: ${JSON.stringify(bundle.parts)}`);
    }
    // An investigator's copy: decrypted by the orchestrator, checked by the CLI (signature, recorded SHA-256), never over a file.
    const copy = path.join(work, 'evidence.tar');
    const copied = await bed.cliJson<{ bundle: string; sha256: string }>('incident', 'evidence-copy', id, '--out', copy);
    assert.equal(copied.bundle, path.basename(bundle.file));
    assert.equal(createHash('sha256').update(await readFile(copy)).digest('hex'), bundle.archiveSha256);
    const verification = await verifyExportArchive(createReadStream(copy), await bed.publicKeyPem(), { clientId });
    assert.equal(verification.ok, true, JSON.stringify(verification.problems));
    assert.ok((await readFile(copy)).includes(ADMIN), 'the archive inside names the admin (its ops-log slice)');
    const again = await bed.cli('incident', 'evidence-copy', id, '--out', copy);
    assert.notEqual(again.code, 0);
    assert.match(again.err, /already exists/);
    const entry = async (name: string) => (await readTarEntry(createReadStream(copy), name))!.toString();
    const auditLines = (await entry('audit/audit-log.jsonl')).trim().split('\n');
    assert.ok(auditLines.length >= 1 && JSON.parse(auditLines[0]!).seq === 1, 'the audit export starts at the chain’s first record');
    const inspect = JSON.parse(await entry('runtime/inspect.json')) as { HostConfig: { ReadonlyRootfs: boolean } };
    assert.equal(inspect.HostConfig.ReadonlyRootfs, true);
    const logs = await entry('runtime/agent-logs.jsonl');
    assert.ok(logs.split('\n').filter(Boolean).length > 0);
    for (const secret of [refreshToken, controlToken, fleet.orchestrator.secretBackend.embedded!.rootToken]) {
      for (const name of ['runtime/agent-logs.jsonl', 'runtime/inspect.json', 'ops-log/entries.jsonl', 'metrics/agent.prom']) {
        assert.ok(!(await entry(name)).includes(secret), `no secret in ${name}`);
      }
    }
    const copyEntry = (await fleet.orchestrator.registry.listOpsLog({ clientId })).find((e) => e.action === 'incident-evidence-copy');
    assert.deepEqual(copyEntry?.details, { incident: id, bundle: path.basename(bundle.file), sha256: bundle.sha256, archiveSha256: bundle.archiveSha256 });
    const sealedBy = (await fleet.orchestrator.registry.listOpsLog({ clientId })).find((e) => e.action === 'incident-evidence')?.actor;
    assert.ok(sealedBy !== undefined && sealedBy !== 'api' && copyEntry?.actor === sealedBy, 'the copy names the signed-in member who took it');
    const sealedEntry = (await fleet.orchestrator.registry.listOpsLog({ clientId })).find((e) => e.action === 'incident-evidence');
    assert.equal(sealedEntry?.details['sha256'], bundle.sha256);
    const access = (await fleet.orchestrator.registry.listOpsLog({ clientId })).find((e) => e.action === 'support-access');
    assert.deepEqual(access?.details, { grantId: grant.id, incident: id, purpose: `incident evidence ${id}` });
    assert.equal(live('response', await bed.scrape()), undefined, 'sealing evidence is a response: the response clock stopped');

    // Containment: rotate, revoke the mailbox grant, kill; the agent stops and its Vault tokens die.
    const accessorsBefore = await bed.agentAccessors(clientId);
    // A CRM grant too (Bullhorn has no revocation API): the containment deletes it at rest.
    await fleet.orchestrator.secrets.set({ clientId, name: 'bullhorn', value: JSON.stringify({ refresh_token: `crm-${clientId}` }), actor: 'test' });
    const contained = await bed.cliJson<ContainResult>('incident', 'contain', id, '--kill', '--rotate', '--revoke-oauth');
    assert.deepEqual(contained.steps.map((s) => [s.step, s.outcome]), [['rotate', 'success'], ['revoke-oauth', 'success'], ['kill', 'success']], JSON.stringify(contained.steps));
    assert.equal(contained.incident.status, 'contained');
    const state = await docker.getContainer(resourceNames(clientId).container).inspect();
    assert.equal(state.State.Running, false, 'the agent container is stopped');
    const accessors = [...new Set([...accessorsBefore, ...(await bed.agentAccessors(clientId))])];
    assert.ok(accessors.length >= 2, 'the agent used a token before and one after the rotation');
    for (const accessor of accessors) assert.equal(await bed.accessorAlive(accessor), false, 'the agent’s Vault token is rejected');
    assert.deepEqual(bed.revokedTokens, [refreshToken], 'the grant was revoked at Google');
    assert.ok(!(await fleet.orchestrator.secrets.list(clientId)).some((s) => s.name === 'gmail'), 'the stored grant is deleted');
    assert.ok(!(await fleet.orchestrator.secrets.list(clientId)).some((s) => s.name === 'bullhorn'), 'the stored CRM grant is deleted');
    assert.match(contained.steps.find((s) => s.step === 'revoke-oauth')?.detail ?? '', /the CRM grant deleted/);
    assert.equal((await fleet.orchestrator.registry.getClient(clientId))?.status, 'killed');

    // Assessment, confirmation: the 24 h notification clock starts.
    await bed.cliJson('incident', 'note', id, '--assessment', '--text', 'one mailbox, sends of the last 2 hours');
    const confirmed = await bed.cliJson<IncidentView>('incident', 'confirm', id, '--scope', 'replies with client data sent to 3 outside addresses');
    assert.equal(confirmed.clocks.find((c) => c.name === 'notification')?.state, 'running');
    const notificationLeft = live('notification', await bed.scrape());
    assert.ok(notificationLeft !== undefined && notificationLeft <= 86_400 && notificationLeft > 86_280, `notification clock: ${notificationLeft}`);
    liveClocks.push({ incident: id, clock: 'notification', incident_severity: 'critical', value: notificationLeft });

    // Closing waits for the client to be told; closing ends the access granted for the incident.
    const early = await bed.cli('incident', 'close', id, '--root-cause', 'x', '--lessons', 'y');
    assert.equal(early.code, 4);
    assert.match(early.err, /record that .* was told/);
    const notified = await bed.cliJson<IncidentView>('incident', 'notify', id, '--channel', 'phone', '--recipient', ADMIN, '--by', 'jake');
    assert.deepEqual(notified.incident.notifications.map((n) => [n.clientId, n.channel, n.by, n.recipient]), [[clientId, 'phone', 'jake', ADMIN]]);
    const closed = await bed.cliJson<IncidentView>('incident', 'close', id, '--root-cause', 'A <b>leaked</b> token', '--lessons', 'Rotate monthly; alert on new domains', '--remediation', 'Restored from clean state');
    assert.equal(closed.incident.status, 'closed');
    assert.deepEqual((await bed.cliJson<SupportGrant[]>('support', 'list', clientId)).map((g) => [g.id, g.status]), [[grant.id, 'revoked']]);

    // The final report: Markdown and HTML, the timeline from the ops log and the sealed audit records.
    const mdFile = path.join(work, 'report.md');
    const htmlFile = path.join(work, 'report.html');
    assert.equal((await bed.cli('incident', 'report', id, '--out', mdFile)).code, 0);
    assert.equal((await bed.cli('incident', 'report', id, '--out', htmlFile)).code, 0);
    const markdown = await readFile(mdFile, 'utf8');
    assert.match(markdown, new RegExp(`^# Post-incident report ${id}\\n\\nFinal report`));
    for (const needle of ['Incident opened (critical)', 'Containment, rotate', 'Containment, revoke-oauth', 'Containment, kill', 'Breach confirmed', `Client ${clientId} told by jake via phone`, '(audit #1)', 'Rotate monthly; alert on new domains']) {
      assert.ok(markdown.includes(needle), `the report mentions ${needle}:\n${markdown}`);
    }
    assert.match(markdown, /digest, decryption and signature verified/);
    const html = await readFile(htmlFile, 'utf8');
    assert.ok(html.includes('A &lt;b&gt;leaked&lt;/b&gt; token') && !html.includes('<b>leaked'), 'the HTML escapes what people wrote');
    const afterReport = await bed.scrape();
    assert.ok(!afterReport.split('\n').some((line) => line.startsWith(DEADLINE) && line.includes(`incident="${id}"`)), 'every clock of the incident is met');

    // Every step is in the hash-chained ops log, which still verifies.
    const trail = (await fleet.orchestrator.registry.listOpsLog()).filter((e) => e.details['incident'] === id).map((e) => e.action);
    assert.deepEqual(trail, ['incident-open', 'support-request', 'support-access', 'incident-evidence', 'incident-evidence-copy', 'incident-contain', 'incident-contain', 'incident-contain', 'incident-note', 'incident-confirm', 'incident-notify', 'incident-close', 'incident-report', 'incident-report']);
    assert.equal(verifyOpsLog(await fleet.orchestrator.registry.listOpsLog()).valid, true);

    // The deadline alerts, fed the clocks exactly as /metrics showed them: each quiet until it should page.
    const { file, checks } = await writeLiveRuleTest(work, liveClocks);
    const promtool = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    assert.equal(promtool.status, 0, `${promtool.stdout}${promtool.stderr}\n${checks.join('\n')}`);
  });

  test('the checked-in promtool tests of every incident alert pass', () => {
    const result = spawnSync('promtool', ['test', 'rules', path.resolve(import.meta.dirname, '../../../deploy/prometheus/tests/incidents.yml')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});

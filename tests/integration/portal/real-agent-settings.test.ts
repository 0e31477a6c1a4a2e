// The client's settings over a REAL agent (its docker container provisioned by the real orchestrator,
// Gmail and scripted Anthropic emulators): a domain blocked in the portal holds the very next send to it
// without a restart; rollback restores the previous behaviour; two edits from one version, one refused;
// turning mail.send off denies a send that was waiting; an approval granted before a block is held again;
// bad input refused by field and by size. Decisions and authors are read back from the agent's audit log
// and the orchestrator's ops log.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { FleetApiClient } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { runCli } from '../../../orchestrator/src/cli/program.ts';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { docker } from '../../helpers/fleet-fixture.ts';
import { signInForCli } from '../../helpers/team-session.ts';
import { waitFor } from '../../helpers/monitoring.ts';
import { withProviderVerdict } from '../agent/agent-harness.ts';
import { launchPortalBrowser, type AdminBrowser, type PortalBrowser } from './browser.ts';
import { createPasskey, finishEnrolment } from './flows.ts';
import { KNOWN, mailTo, newContactWrites, startRealPortal, type RealClient, type RealPortal } from './real-agent-harness.ts';

const ADMIN = 'admin@ps.example';
/** The operator: a signed-in team member (every change on the ops API is made by one). */
const OPERATOR = 'alice@agency';

void describe('client settings over a real agent: applied live, versioned, guarded', { timeout: 1_200_000 }, () => {
  let r: RealPortal;
  let client: RealClient;
  let chromium: PortalBrowser;
  let admin: AdminBrowser;
  let socket: Server;
  let ops: FleetApiClient;
  const url = (path: string) => `${r.portal.handle.url}${path}`;
  const measured: Record<string, number> = {};

  async function auditOf(): Promise<AuditRecord[]> {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => chunks.push(chunk));
    await r.fleet.orchestrator.agents.exportAudit(client.id, { format: 'jsonl' }, sink);
    return Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord);
  }
  const startedAt = async () => (await docker.getContainer(client.container).inspect()).State.StartedAt;
  const head = async () => (await ops.settings.show(client.id)).version;

  /** The known contact writes a routine acknowledgement: the scripted model answers it from a template. */
  async function kimWrites(subject: string): Promise<void> {
    await client.gmail.seedInbound({ from: KNOWN, to: [client.mailbox], subject, text: 'Hi, we received the invoice. Thanks!', headers: withProviderVerdict('gmail', { from: KNOWN }) });
  }
  async function pendingTo(address: string, subject?: string): Promise<{ id: string; reasons: string[]; subject: string; execution: string }[]> {
    const { approvals } = (await r.fleet.orchestrator.agents.listApprovals(client.id, 'pending')) as {
      approvals: { id: string; recipients: string[]; reasons: string[]; subject: string; execution: string }[];
    };
    return approvals.filter((approval) => approval.recipients.includes(address) && (subject === undefined || approval.subject.includes(subject)));
  }
  const sentTo = (address: string, subject: string) => mailTo(client, address).filter((mail) => (mail.subject ?? '').includes(subject));
  /** Applies an edit of the YAML `fleet config show` prints, as the CLI does, from the version it shows. */
  async function edit(change: (document: Record<string, unknown>) => void, reason: string, confirm: string[] = []) {
    const view = await ops.settings.show(client.id);
    const document = parseYaml(view.yaml) as Record<string, unknown>;
    change(document);
    const started = Date.now();
    const outcome = await ops.settings.set(client.id, { yaml: stringifyYaml(document), baseVersion: view.version.version, reason, confirm });
    measured['apiSetMaxMs'] = Math.max(measured['apiSetMaxMs'] ?? 0, Date.now() - started);
    return outcome;
  }
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const sink = (append: (text: string) => void) => new Writable({ write: (chunk: Buffer, _encoding, done) => (append(chunk.toString()), done()) });
    const code = await runCli(['node', 'fleet', ...args], {
      env: { ...process.env, AGENT_FLEET_HOME: r.fleet.homeDir },
      stdout: sink((text) => (out += text)),
      stderr: sink((text) => (err += text)),
    });
    return { code, out, err };
  }

  before(async () => {
    r = await startRealPortal(226, [{ stem: 'ps', admins: [ADMIN] }]);
    client = r.clients[0] as RealClient;
    socket = await listenUnixSocket(createSocketApp(r.fleet.orchestrator, createSilentLogger()), r.fleet.config.api.socketPath);
    const member = await signInForCli(r.fleet.orchestrator, r.fleet.homeDir, OPERATOR);
    ops = new FleetApiClient(member.api(r.fleet.config.api.socketPath, r.fleet.homeDir), OPERATOR);
    chromium = await launchPortalBrowser(r.portal.handle.caCertificatePem ?? '');
    admin = await chromium.newAdmin();
    const shown = await r.portal.invites.invite({ clientId: client.id, email: ADMIN, print: true, actor: 'ops@agency' });
    if (shown.delivery !== 'shown') throw new Error('the invite was not shown');
    await admin.page.goto(shown.url);
    await admin.page.getByRole('button', { name: 'Start the set-up' }).click();
    await admin.page.waitForURL('**/enrol/setup');
    await createPasskey(admin.page);
    await finishEnrolment(admin.page);
  });
  after(async () => {
    process.stdout.write(`settings measurements: ${JSON.stringify(measured)}\n`);
    await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
    await chromium?.close();
    await r?.close();
  });

  void test('a domain blocked in the portal holds the very next send to it, with no restart; author in the audit and ops logs', async () => {
    const started = await startedAt();
    const base = (await head()).version;
    await admin.page.goto(url('/settings'));
    const section = admin.page.locator('section[aria-labelledby="h-blocklist"]');
    await section.getByRole('textbox', { name: /never writes to/ }).fill('partner.example');
    await section.getByLabel(/^Why are you changing this/).fill('Partner was bought by a competitor');
    const clicked = Date.now();
    await section.getByRole('button', { name: 'Save the block list' }).click();
    await admin.page.getByText(`Saved as version ${base + 1}`).waitFor();
    measured['portalSaveMs'] = Date.now() - clicked;
    assert.equal((await head()).version, base + 1, 'the agent applies the version before the portal says saved');

    const written = Date.now();
    await kimWrites('Invoice 11');
    const held = await waitFor('the reply to the blocked domain to be held', 90_000, async () => (await pendingTo(KNOWN, 'Invoice 11'))[0]);
    measured['nextSendHeldMs'] = Date.now() - written;
    assert.ok(held.reasons.includes('blocked_recipient'), `held for ${held.reasons.join(', ')}`);
    assert.deepEqual(sentTo(KNOWN, 'Invoice 11'), [], 'nothing went to the blocked domain');
    assert.equal(await startedAt(), started, 'the container was not restarted');

    const audit = await auditOf();
    const change = audit.find((record) => record.action_type === 'config_change' && record.parameters['settings_version'] === base + 1);
    assert.equal(change?.actor, `admin:${ADMIN}`);
    assert.deepEqual(change?.parameters['changed_fields'], ['blockList']);
    assert.equal(change?.parameters['reason'], 'Partner was bought by a competitor');
    const asked = audit.find((record) => record.action_type === 'approval_requested' && record.parameters['approval_id'] === held.id);
    assert.equal(asked?.parameters['settings_version'], base + 1, 'the gate records the version it decided under');

    const log = await r.fleet.orchestrator.registry.listOpsLog({ clientId: client.id });
    const entry = log.find((candidate) => candidate.action === 'config-change' && candidate.details['version'] === base + 1);
    assert.equal(entry?.actor, `client-admin:${ADMIN}`);
    assert.deepEqual(entry?.details['changes'], ['blockList: +partner.example']);
    assert.equal(verifyOpsLog(await r.fleet.orchestrator.registry.listOpsLog()).valid, true, 'the ops-log chain verifies');
    assert.match((await r.fleet.orchestrator.registry.getClient(client.id))?.configYaml ?? '', /partner\.example/, 'the registry follows the head');
  });

  void test('fleet config rollback restores the previous behaviour: the next routine reply is sent on its own again', async () => {
    const before = (await head()).version;
    // Unblocking a domain is a guard rail: refused until it is confirmed by id, then made.
    const unconfirmed = await cli('config', 'rollback', client.id, '--to', String(before - 1), '--base', String(before), '--reason', 'Block was a mistake');
    assert.notEqual(unconfirmed.code, 0);
    assert.match(unconfirmed.err, /blockList\.removed/, 'the refusal names the rail to confirm');
    const rolled = await cli('config', 'rollback', client.id, '--to', String(before - 1), '--base', String(before), '--reason', 'Block was a mistake', '--confirm', 'blockList.removed');
    assert.equal(rolled.code, 0, rolled.err);
    assert.match(rolled.out, new RegExp(`settings version ${before + 1} applied`));
    await kimWrites('Invoice 12');
    await waitFor('the routine reply to be sent on its own', 90_000, async () => (sentTo(KNOWN, 'Invoice 12').length > 0 ? true : undefined));
    const history = await cli('config', 'history', client.id);
    assert.match(history.out, new RegExp(`v${before + 1} .* \\(rollback to ${before - 1}\\)`));
    assert.match(history.out, /blockList: −partner\.example/);

    // show → edit → set, as ops do it: the file carries the version it was shown at.
    const shown = await cli('config', 'show', client.id);
    assert.match(shown.out, new RegExp(`^# settings-version: ${before + 1}$`, 'm'));
    const file = join(r.fleet.homeDir, 'settings.yaml');
    await writeFile(file, shown.out.replace(/^styleNotes: .*$/m, 'styleNotes: Short and friendly'));
    const set = await cli('config', 'set', client.id, file, '--reason', 'style notes');
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, new RegExp(`settings version ${before + 2} applied`));
    const again = await cli('config', 'set', client.id, file, '--reason', 'the same file again');
    assert.equal(again.code, 4, 'a stale file is a conflict');
    assert.match(again.err, new RegExp(`changed by ${OPERATOR} \\(operator\\) at .*reload`));
  });

  void test('two edits started from one version: one is made, the other refused with who changed it and when', async () => {
    const tabB = await admin.context.newPage();
    await admin.page.goto(url('/settings'));
    await tabB.goto(url('/settings'));
    const limits = admin.page.locator('section[aria-labelledby="h-limits"]');
    await limits.getByLabel(/^Recipients that make a bulk email/).fill('4');
    await limits.getByLabel(/^Why are you changing this/).fill('Smaller bulk threshold');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await admin.page.getByText(/Saved as version/).waitFor();
    const blocks = tabB.locator('section[aria-labelledby="h-blocklist"]');
    await blocks.getByRole('textbox', { name: /never writes to/ }).fill('other.example');
    await blocks.getByLabel(/^Why are you changing this/).fill('Second tab');
    const [answer] = await Promise.all([tabB.waitForResponse((response) => response.url().endsWith('/settings/section/blocklist')), blocks.getByRole('button', { name: 'Save the block list' }).click()]);
    assert.equal(answer.status(), 409);
    await tabB.getByText(new RegExp(`Not saved: changed by ${ADMIN.replace('.', '\\.')} \\(client admin\\) at .*reload`)).waitFor();
    await tabB.close();
    assert.deepEqual((await ops.settings.show(client.id)).version.config.blockList, [], 'the stale edit changed nothing');

    const view = await ops.settings.show(client.id);
    const yaml = (threshold: number) => stringifyYaml({ ...(parseYaml(view.yaml) as object), bulkThreshold: threshold });
    const results = await Promise.allSettled([
      ops.settings.set(client.id, { yaml: yaml(6), baseVersion: view.version.version, reason: 'ops one', confirm: ['bulkThreshold'] }),
      ops.settings.set(client.id, { yaml: yaml(7), baseVersion: view.version.version, reason: 'ops two', confirm: ['bulkThreshold'] }),
    ]);
    assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    assert.match((refused.reason as Error).message, new RegExp(`^changed by ${OPERATOR} \\(operator\\) at .*reload$`));
    assert.equal((await head()).version, view.version.version + 1);
  });

  void test('turning mail.send off denies an auto-send that was waiting, at once', async () => {
    await edit((document) => ((document['rateLimits'] as Record<string, number>)['perHour'] = 0), 'hold every send for a moment');
    await kimWrites('Invoice 13');
    await waitFor('the auto-send to wait at the rate limit', 90_000, async () =>
      (await auditOf()).find((record) => record.action_type === 'policy_denied' && record.parameters['subject'] === 'Re: Invoice 13' && (record.parameters['reasons'] as string[])[0] === 'rate_limit_hour'),
    );
    const off = await edit((document) => {
      (document['permissions'] as Record<string, boolean>)['mail.send'] = false;
      (document['rateLimits'] as Record<string, number>)['perHour'] = 20;
    }, 'no sending for now');
    const denied = await waitFor('the waiting auto-send to be denied', 90_000, async () =>
      (await auditOf()).find((record) => record.action_type === 'policy_denied' && record.parameters['subject'] === 'Re: Invoice 13' && (record.parameters['reasons'] as string[])[0] === 'permission_denied'),
    );
    assert.equal(denied.parameters['settings_version'], off.version.version);
    assert.deepEqual(sentTo(KNOWN, 'Invoice 13'), []);
    assert.equal(off.grant.state, 'unknown', 'no consent was recorded for this client (its secret was set directly)');
    await edit((document) => ((document['permissions'] as Record<string, boolean>)['mail.send'] = true), 'sending again', ['permissions.mail.send']);
  });

  void test('an approval granted before a block is held again under the new settings, never sent', async () => {
    await edit((document) => ((document['rateLimits'] as Record<string, number>)['perHour'] = 0), 'hold every send for a moment');
    const first = await newContactWrites(r.fleet, client, 'lead@newco.example', 'Pricing');
    await admin.page.goto(url(`/approvals/${first}`));
    await admin.page.getByRole('button', { name: 'Approve and send' }).click();
    await admin.page.getByText(/Approved|refused/).first().waitFor();
    const blocked = await edit((document) => {
      document['blockList'] = ['newco.example'];
      (document['rateLimits'] as Record<string, number>)['perHour'] = 20;
    }, 'newco turned out to be a competitor');
    const again = await waitFor('the approved send to be held again', 90_000, async () => (await pendingTo('lead@newco.example')).find((approval) => approval.id !== first));
    assert.ok(again.reasons.includes('blocked_recipient'), `held for ${again.reasons.join(', ')}`);
    assert.deepEqual(mailTo(client, 'lead@newco.example'), [], 'nothing was sent to the newly blocked recipient');
    const audit = await auditOf();
    const asked = audit.find((record) => record.action_type === 'approval_requested' && record.parameters['approval_id'] === again.id);
    assert.equal(asked?.parameters['supersedes'], first);
    assert.equal(asked?.parameters['settings_version'], blocked.version.version);
  });

  void test('permissions follow the grant: enabling what the consent lacks needs re-consent, shown in the portal', async () => {
    const grant = (permissions: Record<string, boolean>) => gmailScopesFor(permissions);
    await ops.settings.recordGrant(client.id, { provider: 'gmail', scopes: grant({ 'mail.read': true, 'mail.draft': true, 'mail.label': true }), secretVersion: 1 });
    const view = await ops.settings.show(client.id);
    assert.equal(view.grant.state, 'needs_reconsent', 'mail.send is on, the recorded consent lacks gmail.send');
    assert.deepEqual(view.grant.missing, ['https://www.googleapis.com/auth/gmail.send']);
    await admin.page.goto(url('/settings'));
    await admin.page.getByText('Your mailbox needs to be connected again.').waitFor();
    await admin.page.getByText(`fleet connect ${client.id} --provider gmail`).waitFor();
    const off = await edit((document) => ((document['permissions'] as Record<string, boolean>)['mail.send'] = false), 'no sending until the owner consents');
    assert.equal(off.grant.state, 'ok', 'turning the capability off ends the need at once');
    const narrower = await edit((document) => ((document['permissions'] as Record<string, boolean>)['mail.label'] = false), 'no labels');
    assert.equal(narrower.grant.state, 'narrowable');
    await admin.page.goto(url('/settings'));
    await admin.page.getByRole('button', { name: 'Narrow the consent at the next connection' }).click();
    await admin.page.getByText('Recorded: the agency will ask only for what your settings need').waitFor();
    const log = await r.fleet.orchestrator.registry.listOpsLog({ clientId: client.id });
    assert.ok(log.some((entry) => entry.action === 'grant-narrow-requested' && entry.actor === `client-admin:${ADMIN}`));
    assert.equal((await ops.settings.show(client.id)).grant.narrowRequested, true);
    await edit((document) => Object.assign(document['permissions'] as Record<string, boolean>, { 'mail.send': true, 'mail.label': true }), 'back as before', ['permissions.mail.send']);
  });

  void test('the schedule checkpoints the settings head in the ops log, and it never moved backwards', async () => {
    const now = (await head()).version;
    const entries = await waitFor('the checkpoint of the head', 30_000, async () => {
      const log = await r.fleet.orchestrator.registry.listOpsLog({ clientId: client.id });
      return log.some((entry) => entry.action === 'config-checkpoint' && entry.details['version'] === 1) ? log : undefined;
    });
    assert.ok(!entries.some((entry) => entry.action === 'config-checkpoint' && entry.outcome === 'failed'));
    const changes = entries.filter((entry) => entry.action === 'config-change' || entry.action === 'config-checkpoint').map((entry) => entry.details['version']);
    assert.deepEqual([...new Set(changes)].sort((a, b) => Number(a) - Number(b)), Array.from({ length: now }, (_, index) => index + 1), 'every version is in the ops log');
  });

  void test('bad input: a field refused next to it in the portal, a document over 1 MiB refused, nothing applied', async () => {
    const before = (await head()).version;
    await admin.page.goto(url('/settings'));
    const limits = admin.page.locator('section[aria-labelledby="h-limits"]');
    await limits.getByLabel(/^Recipients per hour/).fill('twenty');
    await limits.getByLabel(/^Why are you changing this/).fill('typo');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    assert.equal(await admin.page.locator('#err-perHour').innerText(), 'must be a whole number');
    const summary = admin.page.getByRole('alert').filter({ hasText: 'Not saved' });
    assert.equal(await summary.innerText(), 'Not saved. Please check: Recipients per hour. Nothing was changed.', 'the page’s own words, not the field’s name');
    await summary.getByRole('link', { name: 'Recipients per hour' }).click();
    assert.match(admin.page.url(), /#err-perHour$/);
    assert.equal(await limits.getByLabel(/^Recipients per hour/).getAttribute('aria-describedby'), 'err-perHour');
    await limits.getByLabel(/^Recipients per hour/).fill('500');
    await limits.getByLabel(/^Recipients per day/).fill('100');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    assert.match(await admin.page.locator('#err-perHour').innerText(), /cannot exceed “Recipients per day”/);
    const huge = await edit((document) => (document['knownContacts'] = Array.from({ length: 60_000 }, (_, index) => `person${index}@example.com`)), 'import').catch((error: Error) => error);
    assert.match((huge as Error).message, /larger than 1048576 bytes/);
    assert.equal((await head()).version, before, 'nothing was applied');
  });
});

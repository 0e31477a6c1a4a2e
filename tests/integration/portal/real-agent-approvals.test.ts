// The client portal end to end against REAL agents (docker containers provisioned by the real
// orchestrator, Gmail and scripted Anthropic emulators): enrolment by email through the client's own
// mailbox, sign-in, TOTP fallback, approve from the one-tap email, edit then approve, reject, cross-client
// refusal and expiry. What was sent is read from the mailbox emulator; what was decided from the agent's
// audit log.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { PHONE, assertAccessible, launchPortalBrowser, type AdminBrowser, type PortalBrowser } from './browser.ts';
import { createPasskey, csrfOf, finishEnrolment, postForm, setUpApp, signInWithCode, signInWithPasskey, signOut, totpCode } from './flows.ts';
import {
  approvalNotice,
  mailTo,
  newContactWrites,
  startRealPortal,
  waitForMail,
  type RealClient,
  type RealPortal,
} from './real-agent-harness.ts';

const MINUTE = 60_000;
const ENROL_LINK = /(https:\/\/\S+\/enrol\/[A-Za-z0-9_-]+)/;

void describe('the portal over real agents: enrolment, sign-in and approvals', { timeout: 900_000 }, () => {
  let r: RealPortal;
  let chromium: PortalBrowser;
  let acme: RealClient;
  let beta: RealClient;
  let admin: AdminBrowser;
  let boss: AdminBrowser;
  const h = () => ({ portal: r.portal.handle, clock: r.clock });

  async function auditOf(client: RealClient): Promise<AuditRecord[]> {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => chunks.push(chunk));
    await r.fleet.orchestrator.agents.exportAudit(client.id, { format: 'jsonl' }, sink);
    return Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord);
  }

  /** The enrolment link mailed by the client's agent to `email` (ops never see it): opened and started. */
  async function enrolFromMail(client: RealClient, browser: AdminBrowser, email: string): Promise<void> {
    const invited = await r.portal.invites.invite({ clientId: client.id, email, print: false, actor: 'ops@agency' });
    assert.equal(invited.delivery, 'mailed');
    const link = await waitForMail(client, email, ENROL_LINK);
    const opsLog = JSON.stringify(await r.fleet.orchestrator.registry.listOpsLog({ clientId: client.id }));
    assert.ok(!opsLog.includes(link), 'the link is nowhere in the ops log');
    await browser.page.goto(link);
    await browser.page.getByText(`This link is for ${email}`).waitFor();
    await browser.page.getByRole('button', { name: 'Start the set-up' }).click();
    await browser.page.waitForURL('**/enrol/setup');
  }

  before(async () => {
    r = await startRealPortal(222, [
      { stem: 'pa', admins: ['admin@pa.example', 'second@pa.example'] },
      { stem: 'pb', admins: ['boss@pb.example'] },
    ]);
    [acme, beta] = r.clients as [RealClient, RealClient];
    chromium = await launchPortalBrowser(r.portal.handle.caCertificatePem ?? '');
    admin = await chromium.newAdmin();
    boss = await chromium.newAdmin(PHONE);
  });
  after(async () => {
    await chromium?.close();
    await r?.close();
  });

  void test('enrolment: the link arrives through the client’s own mailbox, works once, and the passkey signs in', async () => {
    await enrolFromMail(acme, admin, 'admin@pa.example');
    await createPasskey(admin.page);
    await finishEnrolment(admin.page);
    await signOut(admin.page);
    await signInWithPasskey(h(), admin.page);
    await admin.page.waitForURL('**/approvals');
    const log = await r.fleet.orchestrator.registry.listOpsLog({ clientId: acme.id });
    const invite = log.find((entry) => entry.action === 'portal-invite');
    assert.equal(invite?.details['delivery'], 'mailed');
    assert.ok(log.some((entry) => entry.actor === 'client-admin:admin@pa.example' && entry.action === 'portal-enrolled'));

    await enrolFromMail(beta, boss, 'boss@pb.example');
    await createPasskey(boss.page);
    await finishEnrolment(boss.page);
  });

  void test('TOTP fallback: an admin enrolled with --print (ops-logged as shown) signs in with a code', async () => {
    const second = await chromium.newAdmin();
    const shown = await r.portal.invites.invite({ clientId: acme.id, email: 'second@pa.example', print: true, actor: 'ops@agency' });
    assert.equal(shown.delivery, 'shown');
    const entry = (await r.fleet.orchestrator.registry.listOpsLog({ clientId: acme.id, actions: ['portal-invite'] })).at(-1);
    assert.equal(entry?.reason, 'enrollment link shown to ops@agency');
    assert.equal(mailTo(acme, 'second@pa.example').length, 0, 'a shown link is not mailed');
    if (shown.delivery !== 'shown') return;
    await second.page.goto(shown.url);
    await second.page.getByRole('button', { name: 'Start the set-up' }).click();
    await second.page.waitForURL('**/enrol/setup');
    const secret = await setUpApp(h(), second.page);
    await finishEnrolment(second.page);
    await signOut(second.page);
    r.clock.advance(MINUTE);
    await signInWithCode(h(), second.page, 'second@pa.example', await totpCode(h(), secret));
    await second.page.waitForURL('**/approvals');
    await second.context.close();
  });

  void test('approve from the email: the one-tap link shows the whole draft and thread; the approved reply is sent', async () => {
    const id = await newContactWrites(r.fleet, acme, 'lead1@newco.example', 'Pricing');
    const link = await approvalNotice(acme, 'admin@pa.example', 'lead1@newco.example');
    const notice = mailTo(acme, 'admin@pa.example').find((mail) => (mail.text ?? '').includes(link));
    assert.match(notice?.subject ?? '', /^Approval needed: /);
    assert.match(String(notice?.html ?? ''), /<a href="https:\/\/localhost:\d+\/a\//);

    await admin.page.goto(link);
    await admin.page.getByText('From the correspondent').first().waitFor();
    await admin.page.getByText('Hello, I am interested in your services (Pricing)').waitFor();
    await admin.page.getByText('It goes to someone you have not written to before.').first().waitFor();
    await assertAccessible(admin.page, 'a real approval');
    await admin.page.getByRole('button', { name: 'Approve and send' }).click();
    await admin.page.getByText('Approved. The agent is sending it.').waitFor();

    const sent = mailTo(acme, 'lead1@newco.example');
    assert.equal(sent.length, 1, 'sent once, through the client mailbox');
    assert.match(sent[0]?.text ?? '', /Thank you for your message/);
    const decided = (await auditOf(acme)).find((record) => record.action_type === 'approval_decided' && record.parameters['approval_id'] === id);
    assert.equal(decided?.actor, 'admin:admin@pa.example');
    assert.equal(decided?.parameters['via'], 'portal');
    assert.ok(
      (await r.fleet.orchestrator.registry.listOpsLog({ clientId: acme.id })).some(
        (entry) => entry.action === 'approval-approve' && entry.actor === 'client-admin:admin@pa.example',
      ),
    );
    await admin.page.goto(link);
    assert.equal(await admin.page.locator('h1').innerText(), 'Not found', 'the link worked once');
  });

  void test('edit then approve: the gate re-checks the edited version and the sent mail carries the edit', async () => {
    const id = await newContactWrites(r.fleet, acme, 'lead2@newco.example', 'Availability');
    await admin.page.goto(`${r.portal.handle.url}/approvals/${id}/edit`);
    await admin.page.getByLabel('Message').fill('Dear Lead,\n\nYes, we are available in March. Edited by the admin.\n\nBest');
    await admin.page.getByLabel('Subject').fill('Re: Availability (March)');
    await admin.page.getByRole('button', { name: 'Approve my version and send' }).click();
    await admin.page.getByText('Approved with your edits.').waitFor();
    const sent = mailTo(acme, 'lead2@newco.example');
    assert.equal(sent.length, 1);
    assert.match(sent[0]?.text ?? '', /Edited by the admin\./);
    assert.equal(sent[0]?.subject, 'Re: Availability (March)');
    const decided = (await auditOf(acme)).find((record) => record.action_type === 'approval_decided' && record.parameters['approval_id'] === id);
    assert.equal(decided?.approval_status, 'edited');
    assert.notEqual(decided?.parameters['approved_hash'], decided?.parameters['proposed_hash'], 'hashed anew');
  });

  void test('reject: nothing is sent, the reason and the admin are in the audit log', async () => {
    const id = await newContactWrites(r.fleet, acme, 'lead3@newco.example', 'Discount');
    await admin.page.goto(`${r.portal.handle.url}/approvals/${id}`);
    await admin.page.getByLabel('Reason').fill('We do not offer discounts');
    await admin.page.getByRole('button', { name: 'Reject' }).click();
    await admin.page.getByText('Rejected. Nothing will be sent').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 6_000)); // a sync later, still nothing
    assert.equal(mailTo(acme, 'lead3@newco.example').length, 0);
    const decided = (await auditOf(acme)).find((record) => record.action_type === 'approval_decided' && record.parameters['approval_id'] === id);
    assert.equal(decided?.approval_status, 'rejected');
    assert.equal(decided?.parameters['reason'], 'We do not offer discounts');
  });

  void test('another client’s admin sees and decides nothing of this client: the one 404', async () => {
    const id = await newContactWrites(r.fleet, acme, 'lead4@newco.example', 'Partnership');
    const link = await approvalNotice(acme, 'admin@pa.example', 'lead4@newco.example');
    await boss.page.goto(`${r.portal.handle.url}/approvals`);
    assert.equal(await boss.page.getByText('Partnership').count(), 0);
    for (const path of [`/approvals/${id}`, `/approvals/${id}/edit`, new URL(link).pathname]) {
      const answer = await boss.page.goto(`${r.portal.handle.url}${path}`);
      assert.equal(answer?.status(), 404, path);
    }
    const forged = await postForm(h(), boss.page, `/approvals/${id}/approve`, { _csrf: await csrfOf(boss.page) });
    assert.equal(forged.status, 404);
    assert.equal(mailTo(acme, 'lead4@newco.example').length, 0);
    const { approvals } = (await r.fleet.orchestrator.agents.listApprovals(acme.id, 'pending')) as { approvals: { id: string }[] };
    assert.ok(approvals.some((approval) => approval.id === id), 'still pending');
  });

  void test('expiry: past its time an approval shows as expired, its link is dead and it cannot be approved', async () => {
    const id = await newContactWrites(r.fleet, acme, 'lead5@newco.example', 'Catalogue');
    const link = await approvalNotice(acme, 'admin@pa.example', 'lead5@newco.example');
    r.clock.advance(61 * MINUTE);
    await signInWithPasskey(h(), admin.page);
    await admin.page.waitForURL('**/approvals');
    await admin.page.goto(`${r.portal.handle.url}/approvals/${id}`);
    await admin.page.getByText(/^Expired /).waitFor();
    assert.equal(await admin.page.getByRole('button', { name: 'Approve and send' }).count(), 0);
    assert.equal((await admin.page.goto(link))?.status(), 404, 'the one-tap link expired with it');
    const late = await postForm(h(), admin.page, `/approvals/${id}/approve`, { _csrf: await csrfOf(admin.page) });
    assert.equal(late.status, 409);
    assert.equal(mailTo(acme, 'lead5@newco.example').length, 0, 'nothing sent');
  });
});

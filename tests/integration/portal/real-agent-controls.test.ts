// The client's own controls end to end against a REAL agent: ops lose client content (counts and ages
// only, until a client admin approves their support access in the portal), activity, summary and export
// from the agent's own log, CSRF refusal, lockout, session expiry, and the kill switch from the portal
// (container stopped, Vault token rejected) and revive.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { FleetApiClient } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { createVaultClient } from '@agent-fleet/kernel/vault-client';
import { launchPortalBrowser, type AdminBrowser, type PortalBrowser } from './browser.ts';
import { createPasskey, finishEnrolment, postForm, setUpApp, signInWithCode, signInWithPasskey, totpCode } from './flows.ts';
import { containerRunning, newContactWrites, startRealPortal, type RealClient, type RealPortal } from './real-agent-harness.ts';
import { enrolMember, type TestMember } from '../../helpers/team-session.ts';

const MINUTE = 60_000;

void describe('the client’s own controls over a real agent', { timeout: 900_000 }, () => {
  let r: RealPortal;
  let client: RealClient;
  let chromium: PortalBrowser;
  let admin: AdminBrowser;
  let socket: Server;
  let ops: FleetApiClient;
  let alice: TestMember;
  const h = () => ({ portal: r.portal.handle, clock: r.clock });
  const url = (path: string) => `${r.portal.handle.url}${path}`;

  async function enrol(browser: AdminBrowser, email: string): Promise<void> {
    const shown = await r.portal.invites.invite({ clientId: client.id, email, print: true, actor: 'ops@agency' });
    if (shown.delivery !== 'shown') throw new Error('not shown');
    await browser.page.goto(shown.url);
    await browser.page.getByRole('button', { name: 'Start the set-up' }).click();
    await browser.page.waitForURL('**/enrol/setup');
  }

  before(async () => {
    r = await startRealPortal(223, [{ stem: 'pc', admins: ['admin@pc.example', 'app@pc.example'] }]);
    client = r.clients[0] as RealClient;
    socket = await listenUnixSocket(createSocketApp(r.fleet.orchestrator, createSilentLogger()), r.fleet.config.api.socketPath);
    // The operator signs in as the team member the ops log names.
    alice = await enrolMember(r.fleet.orchestrator, 'alice@agency', { now: () => r.clock.now() });
    ops = new FleetApiClient(alice.api(r.fleet.config.api.socketPath, r.fleet.homeDir), 'alice@agency');
    chromium = await launchPortalBrowser(r.portal.handle.caCertificatePem ?? '');
    admin = await chromium.newAdmin();
    await enrol(admin, 'admin@pc.example');
    await createPasskey(admin.page);
    await finishEnrolment(admin.page);
  });
  after(async () => {
    await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
    await chromium?.close();
    await r?.close();
  });

  void test('ops see counts and ages only, until a client admin approves their support access in the portal', async () => {
    await newContactWrites(r.fleet, client, 'lead@newco.example', 'Pricing');
    const hidden = await ops.listApprovals(client.id, 'pending');
    assert.equal(hidden.content, 'hidden');
    assert.equal(hidden.approvals.length, 1);
    assert.ok(!JSON.stringify(hidden).includes('newco.example'), 'no recipient, subject or body');

    const grant = await ops.requestSupport(client.id, { incident: 'INC-9', reason: 'replies look wrong', hours: 2 });
    await assert.rejects(
      fetchSocketPost(`/v1/clients/${client.id}/support-grants/${grant.id}/approve`),
      /no such endpoint/,
      'ops cannot approve their own access',
    );
    await admin.page.goto(url('/support'));
    await admin.page.getByText('Reason: replies look wrong').waitFor();
    await admin.page.getByRole('button', { name: 'Approve for 2 h' }).click();
    await admin.page.getByRole('heading', { name: 'Access approved' }).waitFor();

    const shown = await ops.listApprovals(client.id, 'pending');
    assert.equal(shown.content, 'shown');
    assert.ok(JSON.stringify(shown).includes('lead@newco.example'));
    const log = await r.fleet.orchestrator.registry.listOpsLog({ clientId: client.id });
    assert.ok(log.some((entry) => entry.action === 'support-approve' && entry.actor === 'client-admin:admin@pc.example'));
    assert.ok(log.some((entry) => entry.action === 'support-access' && entry.details['purpose'] === 'approvals list'));
  });

  void test('activity, the daily summary and the export come from the agent’s own audit log', async () => {
    await admin.page.goto(url('/activity?type=email_read'));
    await admin.page.locator('.timeline li').first().waitFor();
    const reads = await admin.page.locator('.timeline li').count();
    const day = r.clock.now().toISOString().slice(0, 10);
    await admin.page.goto(url(`/summary?date=${day}`));
    const shownReads = Number(await admin.page.locator('.stats div', { hasText: 'Emails read' }).locator('dd').innerText());
    assert.ok(shownReads >= 1 && shownReads <= reads, `summary reads ${shownReads}, timeline ${reads}`);
    await admin.page.getByRole('link', { name: /Reply|Re:/ }).first().waitFor();

    for (const [format, label] of [
      ['csv', 'CSV (spreadsheets)'],
      ['jsonl', /JSON Lines/],
    ] as const) {
      await admin.page.goto(url('/export'));
      await admin.page.getByLabel(label).check();
      const [download] = await Promise.all([admin.page.waitForEvent('download'), admin.page.getByRole('button', { name: 'Download' }).click()]);
      const text = await readFile((await download.path()) ?? '', 'utf8');
      if (format === 'csv') assert.match(text, /^seq,timestamp,action_type/);
      else assert.equal(JSON.parse(text.split('\n')[0] ?? '{}').seq, 1);
      assert.match(text, /approval_requested/);
    }
  });

  void test('CSRF: a form posted from another site carries no session; a POST without the token is refused', async () => {
    const attacker = http.createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<form method="post" action="${url('/kill')}"><input name="reason" value="csrf"></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      await admin.page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      await admin.page.waitForURL(`${r.portal.handle.url}/**`);
    } finally {
      attacker.close();
    }
    const forged = await postForm(h(), admin.page, '/kill', { _csrf: 'x'.repeat(43), reason: 'forged' });
    assert.equal(forged.status, 403);
    assert.equal(await containerRunning(client), true);
    assert.equal((await r.fleet.orchestrator.registry.getClient(client.id))?.status, 'active');
  });

  void test('lockout and session expiry: wrong codes lock the address, the lock ends; idle sessions end', async () => {
    const app = await chromium.newAdmin();
    await enrol(app, 'app@pc.example');
    const secret = await setUpApp(h(), app.page);
    await finishEnrolment(app.page);
    await app.context.clearCookies();
    for (let attempt = 0; attempt < 5; attempt++) await signInWithCode(h(), app.page, 'app@pc.example', '000000');
    await app.page.getByText('Too many attempts from this device').waitFor();
    r.clock.advance(MINUTE);
    await signInWithCode(h(), app.page, 'app@pc.example', await totpCode(h(), secret));
    await app.page.getByText('Too many attempts from this device').waitFor();
    r.clock.advance(15 * MINUTE);
    await signInWithCode(h(), app.page, 'app@pc.example', await totpCode(h(), secret));
    await app.page.waitForURL('**/approvals');

    r.clock.advance(31 * MINUTE);
    await app.page.goto(url('/approvals'));
    await app.page.waitForURL('**/sign-in?next=%2Fapprovals');
    await app.context.close();
    await admin.page.goto(url('/approvals'));
    await admin.page.waitForURL('**/sign-in?next=%2Fapprovals');
    await signInWithPasskey(h(), admin.page);
    await admin.page.waitForURL('**/approvals');
  });

  void test('kill switch from the portal: container stopped, Vault token rejected; revive brings the agent back', async () => {
    const embedded = r.fleet.orchestrator.secretBackend.embedded!;
    const root = createVaultClient({ endpoint: embedded.url, token: embedded.rootToken, caPem: embedded.caCertificatePem });
    const own = ((await root.read('auth/token/lookup-self')) as { data: { accessor: string } }).data.accessor;
    const accessors = [
      ...new Set(
        embedded.requestLog
          .entries()
          .filter((entry) => entry.accessor && entry.accessor !== own && entry.path.includes(`/${client.id}/`) && entry.status < 400)
          .map((entry) => entry.accessor!),
      ),
    ];
    assert.ok(accessors.length >= 1);

    await admin.page.goto(url('/approvals'));
    await admin.page.getByRole('link', { name: 'Stop the agent…' }).click();
    await admin.page.getByLabel(/^Reason/).fill('Odd replies to a client');
    await admin.page.getByRole('button', { name: 'Stop the agent now' }).click();
    await admin.page.getByRole('heading', { name: 'The agent is stopped' }).waitFor({ timeout: 60_000 });
    assert.equal(await containerRunning(client), false);
    assert.equal((await r.fleet.orchestrator.registry.getClient(client.id))?.status, 'killed');
    for (const accessor of accessors) {
      await assert.rejects(root.write('auth/token/lookup-accessor', { accessor }), Error, 'agent token rejected');
    }
    const kill = (await r.fleet.orchestrator.registry.listOpsLog({ clientId: client.id })).find((entry) => entry.action === 'kill');
    assert.equal(kill?.actor, 'client-admin:admin@pc.example');
    assert.equal(kill?.reason, 'Odd replies to a client');

    await admin.page.goto(url('/approvals'));
    await admin.page.getByRole('link', { name: 'Revive the agent…' }).click();
    await admin.page.getByLabel(/^Reason/).fill('Checked with the agency');
    await admin.page.getByRole('button', { name: 'Revive the agent' }).click();
    await admin.page.getByRole('heading', { name: 'The agent is running again' }).waitFor({ timeout: 120_000 });
    assert.equal(await containerRunning(client), true);
    assert.equal((await r.fleet.orchestrator.registry.getClient(client.id))?.status, 'active');
    // The revived agent answers the portal again.
    await admin.page.goto(url('/approvals'));
    await admin.page.getByRole('link', { name: /Reply|Re:/ }).first().waitFor();
  });

  /** A POST through the ops API's unix socket (as the CLI sends it). */
  function fetchSocketPost(path: string): Promise<unknown> {
    return alice.api(r.fleet.config.api.socketPath, r.fleet.homeDir).request('POST', path, {
      by: 'admin@pc.example',
      actor: 'alice@agency',
    });
  }
});

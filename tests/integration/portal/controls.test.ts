import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { launchPortalBrowser, type AdminBrowser, type PortalBrowser } from './browser.ts';
import { csrfOf, enrolWithPasskey, postForm } from './flows.ts';
import { startPortalHarness, type PortalHarness } from './portal-harness.ts';
import { seedClientData } from './seed.ts';

void describe('portal controls in Chromium: kill switch, revive, support access, activity, export', () => {
  let h: PortalHarness;
  let chromium: PortalBrowser;
  let acme: AdminBrowser;

  before(async () => {
    h = await startPortalHarness();
    seedClientData(h.gateway, 'acme', h.clock.now());
    chromium = await launchPortalBrowser(h.portal.caCertificatePem ?? '');
    acme = await chromium.newAdmin();
    await enrolWithPasskey(h, acme, 'acme', 'admin@acme.com');
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  void test('a form posted from another site carries no session (SameSite=Strict) and changes nothing', async () => {
    const attacker = http.createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        `<form method="post" action="${h.portal.url}/kill"><input name="reason" value="csrf"></form><script>document.forms[0].submit()</script>`,
      );
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      await acme.page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      await acme.page.waitForURL(`${h.portal.url}/**`);
      assert.equal(h.gateway.clients.get('acme')?.killed, false);
      assert.notEqual(await acme.page.locator('h1').innerText(), 'The agent is stopped');
    } finally {
      attacker.close();
    }
  });

  void test('kill switch: on every page, a confirm step says what happens, then the agent is stopped; revive needs a reason', async () => {
    for (const path of ['/approvals', '/activity', '/summary', '/support', '/export']) {
      await acme.page.goto(`${h.portal.url}${path}`);
      await acme.page.getByRole('link', { name: 'Stop the agent…' }).waitFor();
    }
    await acme.page.getByRole('link', { name: 'Stop the agent…' }).click();
    await acme.page.getByText('Its access to your mailbox and calendar is revoked').waitFor();
    assert.equal(h.gateway.clients.get('acme')?.killed, false, 'the confirm page changes nothing');
    await acme.page.getByLabel(/^Reason/).fill('Strange replies to a client');
    await acme.page.getByRole('button', { name: 'Stop the agent now' }).click();
    await acme.page.getByRole('heading', { name: 'The agent is stopped' }).waitFor();
    assert.equal(h.gateway.clients.get('acme')?.killed, true);
    assert.equal(h.gateway.clients.get('acme')?.reason, 'Strange replies to a client');
    assert.ok(h.gateway.events.some((event) => event.event === 'kill' && event.by === 'admin@acme.com'));

    await acme.page.goto(`${h.portal.url}/approvals`);
    await acme.page.getByText('The agent is stopped.').waitFor();
    const noReason = await postForm(h, acme.page, '/revive', { _csrf: await csrfOf(acme.page), reason: '' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.text, /reason: is required/);
    await acme.page.getByRole('link', { name: 'Revive the agent…' }).click();
    await acme.page.getByLabel(/^Reason/).fill('Checked: a template issue, fixed');
    await acme.page.getByRole('button', { name: 'Revive the agent' }).click();
    await acme.page.getByRole('heading', { name: 'The agent is running again' }).waitFor();
    assert.equal(h.gateway.clients.get('acme')?.killed, false);
    assert.ok(
      h.gateway.events.some(
        (event) =>
          event.event === 'revive: Checked: a template issue, fixed' && event.by === 'admin@acme.com',
      ),
    );
  });

  void test('support access: a pending request is approved by the signed-in admin; a decided one cannot be decided again', async () => {
    await acme.page.goto(`${h.portal.url}/support`);
    await acme.page.getByText('Approve: ops.jane can read your data for 4 hours from now').waitFor();
    await acme.page.getByRole('button', { name: 'Approve for 4 h' }).click();
    await acme.page.getByRole('heading', { name: 'Access approved' }).waitFor();
    const grant = (await h.gateway.supportRequests('acme')).find(
      (request) => request.id === 'sg-0123456789abcdef',
    );
    assert.equal(grant?.state, 'active');
    assert.equal(grant?.approvedBy, 'admin@acme.com');
    const again = await postForm(h, acme.page, '/support/sg-0123456789abcdef', {
      _csrf: await csrfOf(acme.page),
      decision: 'deny',
    });
    assert.equal(again.status, 409);
    const bad = await postForm(h, acme.page, '/support/sg-0123456789abcdef', {
      _csrf: await csrfOf(acme.page),
      decision: 'maybe',
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /decision: must be approve or deny/);
  });

  void test('support access: an approved grant is shown with who, why, which incident and until when, and ended early by the admin', async () => {
    await acme.page.goto(`${h.portal.url}/support`);
    const open = acme.page.locator('li.item', { has: acme.page.getByRole('button', { name: 'End access now' }) });
    await open.getByRole('heading', { name: 'ops.jane can read your data' }).waitFor();
    await open.getByText('INC-42').waitFor();
    await open.getByText('Replies to the client go out twice; need to read the outbox log').waitFor();
    await open.locator('dt', { hasText: 'Until' }).waitFor();
    await open.getByText('the agency loses access at once. They can ask again.').waitFor();
    await open.getByRole('button', { name: 'End access now' }).click();
    await acme.page.getByRole('heading', { name: 'Access ended' }).waitFor();
    await acme.page.getByText('ops.jane no longer has access to your data (incident INC-42).').waitFor();
    const grant = (await h.gateway.supportRequests('acme')).find((request) => request.id === 'sg-0123456789abcdef');
    assert.equal(grant?.state, 'revoked');
    assert.ok(h.gateway.events.some((event) => event.event === 'support-end: sg-0123456789abcdef' && event.by === 'admin@acme.com'));

    await acme.page.getByRole('link', { name: 'Back to support access' }).click();
    await acme.page.getByText('Nobody from the agency has access now.').waitFor();
    assert.equal(await acme.page.getByRole('button', { name: 'End access now' }).count(), 0);
    const again = await postForm(h, acme.page, '/support/sg-0123456789abcdef/end', { _csrf: await csrfOf(acme.page) });
    assert.equal(again.status, 409);
    assert.match(again.text, /already ended/);
  });

  void test('activity filters the audit timeline; the summary counts the day; malformed filters are a 400 naming the field', async () => {
    await acme.page.goto(`${h.portal.url}/activity`);
    assert.equal(await acme.page.locator('.timeline li').count(), 11);
    await acme.page.getByLabel('What').selectOption('email_send');
    await acme.page.getByRole('button', { name: 'Show' }).click();
    await acme.page.waitForURL('**/activity?type=email_send**');
    assert.equal(await acme.page.locator('.timeline li').count(), 2);
    const bad = await acme.page.goto(`${h.portal.url}/activity?from=2026-13-45`);
    assert.equal(bad?.status(), 400);
    await acme.page.getByText('from: is not a date').waitFor();

    const today = h.clock.now().toISOString().slice(0, 10);
    await acme.page.goto(`${h.portal.url}/summary?date=${today}`);
    const reads = h.gateway.clients
      .get('acme')
      ?.audit.filter((event) => event.type === 'email_read' && event.at.startsWith(today)).length;
    assert.equal(
      await acme.page.locator('.stats div', { hasText: 'Emails read' }).locator('dd').innerText(),
      String(reads),
    );
  });

  void test('audit export downloads CSV and JSON Lines, recorded with the admin', async () => {
    for (const [format, label] of [
      ['csv', 'CSV (spreadsheets)'],
      ['jsonl', /JSON Lines/],
    ] as const) {
      await acme.page.goto(`${h.portal.url}/export`);
      await acme.page.getByLabel(label).check();
      const [download] = await Promise.all([
        acme.page.waitForEvent('download'),
        acme.page.getByRole('button', { name: 'Download' }).click(),
      ]);
      assert.match(download.suggestedFilename(), new RegExp(`^audit-acme-\\d{4}-\\d{2}-\\d{2}\\.${format}$`));
      const text = await readFile((await download.path()) ?? '', 'utf8');
      if (format === 'csv') assert.match(text, /^seq,timestamp,action_type/);
      else assert.equal(JSON.parse(text.split('\n')[0] ?? '{}').action_type, 'email_read');
    }
    assert.deepEqual(
      h.gateway.exports.map((entry) => [entry.format, entry.by]),
      [
        ['csv', 'admin@acme.com'],
        ['jsonl', 'admin@acme.com'],
      ],
    );
  });
});

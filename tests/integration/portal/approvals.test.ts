import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchPortalBrowser, type AdminBrowser, type PortalBrowser } from './browser.ts';
import {
  csrfOf,
  enrolWithPasskey,
  getWithoutCookies,
  postForm,
  signInWithPasskey,
  signOut,
} from './flows.ts';
import { startPortalHarness, type PortalHarness } from './portal-harness.ts';

const HOUR = 3_600_000;
const draft = (subject: string, to = 'client@example.com') => ({
  to: [to],
  cc: ['office@acme.com'],
  bcc: [],
  subject,
  body: `Dear client,\n\n${subject}: see below.\n\n<script>alert(1)</script> & more\n\nKind regards`,
});

void describe('portal approvals in Chromium: decide, one-tap links, refusals', () => {
  let h: PortalHarness;
  let chromium: PortalBrowser;
  let acme: AdminBrowser;
  let beta: AdminBrowser;

  before(async () => {
    h = await startPortalHarness();
    chromium = await launchPortalBrowser(h.portal.caCertificatePem ?? '');
    acme = await chromium.newAdmin();
    beta = await chromium.newAdmin();
    await enrolWithPasskey(h, acme, 'acme', 'admin@acme.com');
    await enrolWithPasskey(h, beta, 'beta', 'boss@beta.com');
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  void test('approve: the whole draft is shown (escaped), approving sends it as shown, by the signed-in admin', async () => {
    h.gateway.addApproval('acme', {
      id: 'ap-approve',
      draft: draft('Quote for March'),
      thread: [
        {
          from: 'client@example.com',
          at: new Date().toISOString(),
          subject: 'Quote?',
          body: 'Can you send a quote?',
          fromCorrespondent: true,
        },
      ],
    });
    await acme.page.goto(`${h.portal.url}/approvals`);
    await acme.page.getByRole('link', { name: 'Quote for March' }).click();
    await acme.page.getByText('<script>alert(1)</script> & more').waitFor();
    await acme.page.getByText('Can you send a quote?').waitFor();
    await acme.page
      .getByText('Approve: the agent sends this email exactly as shown to client@example.com.')
      .waitFor();
    await acme.page.getByRole('button', { name: 'Approve and send' }).click();
    await acme.page.getByText('Approved. The agent is sending it.').waitFor();
    assert.deepEqual(h.gateway.sent.at(-1), {
      clientId: 'acme',
      approvalId: 'ap-approve',
      draft: {
        to: ['client@example.com'],
        cc: ['office@acme.com'],
        subject: 'Quote for March',
        body: draft('Quote for March').body,
      },
      bcc: [],
      by: 'admin@acme.com',
    });
  });

  void test('edit then approve: the sent mail carries the edit; an edit the gate refuses is not sent', async () => {
    h.gateway.addApproval('acme', { id: 'ap-edit', draft: draft('Meeting Tuesday') });
    await acme.page.goto(`${h.portal.url}/approvals/ap-edit`);
    await acme.page.getByRole('link', { name: 'Edit before sending…' }).click();
    await acme.page.getByLabel('Subject').fill('Meeting Wednesday');
    await acme.page.getByLabel('Message').fill('Dear client,\n\nWednesday at 10 works.\n');
    await acme.page.getByRole('button', { name: 'Approve my version and send' }).click();
    await acme.page.getByText('Approved with your edits.').waitFor();
    const sent = h.gateway.sent.at(-1);
    assert.equal(sent?.approvalId, 'ap-edit');
    assert.equal(sent?.draft.subject, 'Meeting Wednesday');
    assert.equal(sent?.draft.body, 'Dear client,\n\nWednesday at 10 works.\n');

    h.gateway.addApproval('acme', { id: 'ap-blocked', draft: draft('Invoice') });
    const before = h.gateway.sent.length;
    await acme.page.goto(`${h.portal.url}/approvals/ap-blocked/edit`);
    await acme.page.getByLabel(/^To/).fill('attacker@evil.example');
    await acme.page.getByRole('button', { name: 'Approve my version and send' }).click();
    await acme.page.getByText('The policy gate refused this email').waitFor();
    assert.equal(h.gateway.sent.length, before);
  });

  void test('reject needs a reason; expired approvals show as such and cannot be decided', async () => {
    h.gateway.addApproval('acme', { id: 'ap-reject', draft: draft('Discount offer') });
    const empty = await postForm(h, acme.page, '/approvals/ap-reject/reject', {
      _csrf: await csrfOf(acme.page),
      reason: '  ',
    });
    assert.equal(empty.status, 400);
    assert.match(empty.text, /reason: is required/);
    await acme.page.goto(`${h.portal.url}/approvals/ap-reject`);
    await acme.page.getByLabel('Reason').fill('We do not offer discounts');
    await acme.page.getByRole('button', { name: 'Reject' }).click();
    await acme.page.getByText('Rejected. Nothing will be sent').waitFor();
    assert.equal(
      (await h.gateway.getApproval('acme', 'ap-reject'))?.decision?.reason,
      'We do not offer discounts',
    );

    h.gateway.addApproval('acme', {
      id: 'ap-expired',
      draft: draft('Old news'),
      expiresAt: new Date(h.clock.now().getTime() - HOUR).toISOString(),
    });
    await acme.page.goto(`${h.portal.url}/approvals`);
    await acme.page.locator('li', { hasText: 'Old news' }).getByText('Expired').waitFor();
    await acme.page.goto(`${h.portal.url}/approvals/ap-expired`);
    await acme.page.getByText(/Nobody decided in time, so nothing was or will be sent/).waitFor();
    assert.equal(await acme.page.getByRole('button', { name: 'Approve and send' }).count(), 0);
    const late = await postForm(h, acme.page, '/approvals/ap-expired/approve', {
      _csrf: await csrfOf(acme.page),
    });
    assert.equal(late.status, 409);
    assert.equal((await h.gateway.getApproval('acme', 'ap-expired'))?.state, 'pending');
  });

  void test('one-tap link: opening changes nothing, a passkey signs in to it, one decision uses it up', async () => {
    h.gateway.addApproval('acme', { id: 'ap-link', draft: draft('Contract draft') });
    const link = h.portal.approvalLink('acme', 'ap-link');
    await signOut(acme.page);
    // A mail scanner (no session) following the link: no content, nothing changes.
    const scanner = await getWithoutCookies(acme.page, link);
    assert.equal(scanner.status, 200);
    assert.ok(!scanner.text.includes('Contract draft'));
    // From the mail client: a new browser window, no cookie of the portal at all.
    await acme.context.clearCookies();
    await acme.page.goto(link);
    await acme.page.getByRole('heading', { name: 'An approval is waiting' }).waitFor();
    await signInWithPasskey(h, acme.page, new URL(link).pathname);
    await acme.page.waitForURL(link);
    await acme.page.getByRole('heading', { name: 'Contract draft' }).waitFor();
    await acme.page.getByRole('button', { name: 'Approve and send' }).click();
    await acme.page.getByText('Approved. The agent is sending it.').waitFor();
    assert.equal(h.gateway.sent.at(-1)?.approvalId, 'ap-link');

    await acme.page.goto(link);
    assert.equal(await acme.page.locator('h1').innerText(), 'Not found', 'a used link is a 404');
  });

  void test('forged, expired, reused and other-client links and ids give the same 404, and change nothing', async () => {
    h.gateway.addApproval('acme', { id: 'ap-guarded', draft: draft('Board minutes') });
    const link = h.portal.approvalLink('acme', 'ap-guarded');
    const forged = link.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'));
    const shortLived = h.portal.approvalLink('acme', 'ap-guarded', new Date(h.clock.now().getTime() + 1000));
    for (const [label, url, who] of [
      ['forged link', forged, acme],
      ['link of another client (seen by beta)', link, beta],
      ['acme approval id (seen by beta)', `${h.portal.url}/approvals/ap-guarded`, beta],
      ['unknown id', `${h.portal.url}/approvals/ap-none`, acme],
      ['malformed id', `${h.portal.url}/approvals/..%2F..%2Fetc`, acme],
    ] as const) {
      const response = await who.page.goto(url);
      assert.equal(response?.status(), 404, label);
      assert.equal(await who.page.locator('h1').innerText(), 'Not found', label);
    }
    h.clock.advance(2000);
    assert.equal((await acme.page.goto(shortLived))?.status(), 404, 'expired link');

    await beta.page.goto(`${h.portal.url}/approvals`);
    assert.equal(await beta.page.getByText('Board minutes').count(), 0, 'beta never sees acme approvals');
    const token = await csrfOf(beta.page);
    for (const [path, extra] of [
      ['/approvals/ap-guarded/approve', {}],
      ['/approvals/ap-guarded/reject', { reason: 'no' }],
    ] as const) {
      const response = await postForm(h, beta.page, path, {
        _csrf: token,
        ...extra,
        link: new URL(link).pathname.slice(3),
      });
      assert.equal(response.status, 404, path);
    }
    const withLink = await postForm(h, acme.page, '/approvals/ap-guarded/approve', {
      _csrf: await csrfOf(acme.page),
      link: new URL(forged).pathname.slice(3),
    });
    assert.equal(withLink.status, 404, 'a forged link in the form');
    assert.equal((await h.gateway.getApproval('acme', 'ap-guarded'))?.state, 'pending', 'nothing changed');
  });

  void test('oversized and malformed forms give 400 naming the field; a missing CSRF token gives 403; nothing changes', async () => {
    h.gateway.addApproval('acme', { id: 'ap-forms', draft: draft('Forms') });
    await acme.page.goto(`${h.portal.url}/approvals/ap-forms`);
    const token = await csrfOf(acme.page);
    const cases: [Record<string, string>, string][] = [
      [
        { _csrf: token, to: 'client@example.com', cc: '', subject: 'x', body: 'y'.repeat(100_001) },
        'body: is limited to 100000 characters',
      ],
      [
        { _csrf: token, to: 'not an address', cc: '', subject: 'x', body: 'y' },
        'to: must be email addresses separated by commas',
      ],
      [
        {
          _csrf: token,
          to: 'client@example.com',
          cc: '',
          subject: 'x',
          body: 'y',
          admin: 'someone@else.com',
        },
        'admin: is not a field of this form',
      ],
    ];
    for (const [form, message] of cases) {
      const response = await postForm(h, acme.page, '/approvals/ap-forms/edit', form);
      assert.equal(response.status, 400, message);
      assert.ok(response.text.includes(message), message);
    }
    const huge = await postForm(h, acme.page, '/approvals/ap-forms/edit', {
      _csrf: token,
      to: 'a@b.co',
      body: 'y'.repeat(1_100_000),
    });
    assert.equal(huge.status, 400);
    assert.match(huge.text, /form: larger than 1mb/);
    const noToken = await postForm(h, acme.page, '/approvals/ap-forms/approve', {});
    assert.equal(noToken.status, 403);
    const wrongToken = await postForm(h, acme.page, '/approvals/ap-forms/approve', { _csrf: 'x'.repeat(43) });
    assert.equal(wrongToken.status, 403);
    assert.equal((await h.gateway.getApproval('acme', 'ap-forms'))?.state, 'pending');
  });
});

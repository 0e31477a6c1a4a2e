import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DESKTOP, PHONE, assertAccessible, type PortalBrowser } from './browser.ts';
import { csrfOf, enrolWithPasskey, postForm } from './flows.ts';
import type { PortalHarness } from './portal-harness.ts';
import { portalInChromium } from './portal-in-chromium.ts';

const HOUR = 3_600_000;

void describe('emails set aside for a person, in Chromium: the list, "I dealt with it", "Let the assistant try again"', () => {
  let h: PortalHarness;
  let chromium: PortalBrowser;

  portalInChromium((harness, browser) => {
    h = harness;
    chromium = browser;
  });

  function park(clientId: string, messageId: string, reason: string, hoursAgo: number, extra: { sender?: string | null; subject?: string | null; retried?: boolean } = {}): void {
    const state = h.gateway.clients.get(clientId);
    if (!state) throw new Error(`no client ${clientId}`);
    state.parked.push({
      messageId,
      reason,
      since: new Date(h.clock.now().getTime() - hoursAgo * HOUR).toISOString(),
      sender: extra.sender === undefined ? 'maria.lopez@example.com' : extra.sender,
      subject: extra.subject === undefined ? null : extra.subject,
      retried: extra.retried ?? false,
    });
  }

  void test('reached from the menu; each button says what it does first, then does it for this client only', async () => {
    park('acme', '18e4a1f2c3d4b5a6', 'low_confidence', 50, { subject: 'Question about the March invoice' });
    park('acme', 'AAMkAGI2/x+y=', 'malformed_model_output', 3, { sender: null, retried: true });
    park('beta', 'beta-secret-1', 'unusable_draft', 1);
    const acme = await chromium.newAdmin(PHONE);
    await enrolWithPasskey(h, acme, 'acme', 'admin@acme.com');
    const page = acme.page;
    await page.getByRole('link', { name: 'Set aside' }).click();
    await page.getByRole('heading', { name: 'Set aside for you' }).waitFor();
    await page.getByText('2 emails set aside, oldest first.').waitFor();
    await page.getByText('From maria.lopez@example.com').waitFor();
    await page.getByRole('heading', { name: 'Question about the March invoice' }).waitFor();
    await page.getByRole('heading', { name: '(subject not recorded)' }).waitFor();
    await page.getByText('Set aside 2 days ago').waitFor();
    await page.getByText('The assistant already had its one more try with this email').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Let the assistant try again' }).count(), 1, 'no retry where it is used');
    assert.ok(!(await page.content()).includes('beta-secret-1'), 'another client’s email is not listed');

    await page.getByRole('button', { name: 'Let the assistant try again' }).click();
    await page.getByRole('heading', { name: 'The assistant will try again' }).waitFor();
    await page.getByRole('link', { name: 'Back to the emails set aside' }).click();
    await page.getByText('1 email set aside, oldest first.').waitFor();
    await page.getByRole('button', { name: 'I dealt with it' }).click();
    await page.getByRole('heading', { name: 'Marked as dealt with' }).waitFor();
    assert.deepEqual(
      h.gateway.events.filter((event) => event.event.startsWith('review-')).map((event) => [event.clientId, event.by, event.event]),
      [
        ['acme', 'admin@acme.com', 'review-retry: 18e4a1f2c3d4b5a6'],
        ['acme', 'admin@acme.com', 'review-handled: AAMkAGI2/x+y='],
      ],
    );

    // Another client's message id posted by acme's admin: not found there, nothing changes.
    const foreign = await postForm(h, page, '/review/handled', { _csrf: await csrfOf(page), message: 'beta-secret-1' });
    assert.equal(foreign.status, 404);
    assert.equal(h.gateway.clients.get('beta')?.parked[0]?.resolved, undefined);
    await acme.context.close();
  });

  for (const [name, viewport] of [
    ['phone 390×844', PHONE],
    ['desktop 1280×800', DESKTOP],
  ] as const) {
    void test(`the page at ${name}: 0 axe violations, nothing wider than the screen`, async () => {
      park('acme', `long-${name}-${'x'.repeat(300)}`, 'processing_failed', 30, { sender: 'a.very.long.sender.address.for.testing@subdomain.example.com' });
      park('acme', `own-${name}`, 'own_address_unverified', 1, { sender: 'admin@acme.com' });
      const admin = await chromium.newAdmin(viewport);
      await enrolWithPasskey(h, admin, 'acme', 'second@acme.com');
      await admin.page.goto(`${h.portal.url}/review`);
      await admin.page.getByRole('heading', { name: 'Set aside for you' }).waitFor();
      await assertAccessible(admin.page, `review (${name})`);
      await admin.context.close();
    });
  }

  void test('a long list comes in pages of plain links on a phone; a button returns to its page; 0 axe violations', async () => {
    // Only this test's emails: the earlier tests' are dealt with.
    for (const email of h.gateway.clients.get('acme')?.parked ?? []) email.resolved ??= 'handled';
    for (let index = 0; index < 30; index++) park('acme', `paged-${String(index).padStart(2, '0')}`, 'low_confidence', 60 - index, { subject: `Paged ${index}` });
    const admin = await chromium.newAdmin(PHONE);
    await enrolWithPasskey(h, admin, 'acme', 'admin@acme.com');
    const page = admin.page;
    await page.goto(`${h.portal.url}/review`);
    await page.getByText('30 emails set aside, oldest first.').waitFor();
    await page.getByText('Showing 1 to 25: page 1 of 2.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'I dealt with it' }).count(), 25);
    const pages = page.getByRole('navigation', { name: 'Pages of the emails set aside' });
    await pages.getByRole('link', { name: 'Next page (newer emails)' }).click();
    await page.getByText('Showing 26 to 30: page 2 of 2.').waitFor();
    await page.getByRole('heading', { name: 'Paged 29' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Paged 0', exact: true }).count(), 0, 'the first page’s emails are not on the second');
    await assertAccessible(page, 'review, page 2 (phone)');

    await page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Paged 29' }) }).getByRole('button', { name: 'I dealt with it' }).click();
    await page.getByRole('heading', { name: 'Marked as dealt with' }).waitFor();
    await page.getByRole('link', { name: 'Back to the emails set aside' }).click();
    await page.getByText('29 emails set aside, oldest first.').waitFor();
    await page.getByText('Showing 26 to 29: page 2 of 2.').waitFor();
    await pages.getByRole('link', { name: 'First page' }).click();
    await page.getByText('Showing 1 to 25: page 1 of 2.').waitFor();
    await admin.context.close();
  });
});

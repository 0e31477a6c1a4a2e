// Probing the approval, export and settings pages with input nobody had tried: an edit posted for an action
// that is not a message, a draft with a Bcc the admin drops or changes, a long draft in a three-byte script,
// a full block list, an export the agent cannot give, and hostile text on a phone (a word longer than the
// screen, a bidirectional override in an attacker's address). In process: PGlite, the test gateways, Chromium.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { DraftMessage } from '../../../orchestrator/src/portal/client-gateway.ts';
import { PHONE, launchPortalBrowser, type PortalBrowser } from './browser.ts';
import { MemorySettingsGateway } from './memory-settings-gateway.ts';
import { portalSessions, startPortalHarness, type PortalHarness } from './portal-harness.ts';
import { seedSettings } from './settings-tour.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const draft = (subject: string, extra: Partial<DraftMessage> = {}): DraftMessage => ({
  to: ['client@example.com'],
  cc: [],
  bcc: [],
  subject,
  body: 'Dear client,\n\nSee below.\n',
  ...extra,
});

void describe('approval, export and settings pages: probed input', () => {
  let h: PortalHarness;
  let settings: MemorySettingsGateway;
  let token: string;
  let csrf: string;
  let chromium: PortalBrowser | undefined;

  before(async () => {
    settings = new MemorySettingsGateway();
    h = await startPortalHarness({}, undefined, settings);
    settings.now = () => h.clock.now();
    seedSettings(settings, h.clock.now());
    const sessions = await portalSessions(h);
    const session = await sessions.start('active', { clientId: 'acme', email: 'admin@acme.com' });
    token = session.token;
    csrf = sessions.csrfToken(session);
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  function send(method: string, path: string, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { cookie: `__Host-fleet-session=${token}` };
      if (body !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const request = https.request(
        { host: '127.0.0.1', port: h.portal.address.port, servername: 'localhost', ca: h.portal.caCertificatePem ?? '', method, path, headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
  const post = (path: string, fields: Record<string, string>) => send('POST', path, new URLSearchParams({ _csrf: csrf, ...fields }).toString());

  void test('an edit posted for an action that is not a message is refused as the edit page is: nothing is decided', async () => {
    const approval = h.gateway.addApproval('acme', { id: 'ap-calendar', draft: draft('unused'), action: 'calendar.write' });
    approval.draft = null;
    approval.arguments = { kind: 'calendar.write', title: 'Board meeting', attendees: ['board@acme.com'] };
    assert.equal((await send('GET', '/approvals/ap-calendar/edit')).status, 404, 'no edit page for it');
    const sent = h.gateway.sent.length;
    const answer = await post('/approvals/ap-calendar/edit', { to: 'someone@elsewhere.example', subject: 'Hello', body: 'Hi' });
    assert.equal(answer.status, 404);
    assert.match(answer.text, /<h1>Not found<\/h1>/);
    assert.equal(h.gateway.sent.length, sent, 'nothing was sent');
    assert.equal((await h.gateway.getApproval('acme', 'ap-calendar'))?.state, 'pending', 'nothing was decided');
  });

  void test('an approval to change or cancel an event says that the calendar tells every attendee listed', async () => {
    const event = { title: 'Board meeting', start: '2026-06-02T10:00:00+02:00', end: null, timeZone: 'Europe/Berlin', attendees: ['board@acme.com', 'chair@acme.com'] };
    for (const operation of ['update', 'cancel'] as const) {
      const approval = h.gateway.addApproval('acme', { id: `ap-event-${operation}`, draft: draft('unused'), action: 'calendar.write', event });
      approval.draft = null;
      approval.arguments = { kind: 'calendar.write', operation, eventId: 'ev-1', participants: [] };
      const page = await send('GET', `/approvals/ap-event-${operation}`);
      assert.equal(page.status, 200);
      assert.match(page.text, operation === 'update' ? /The calendar event it changes/ : /The calendar event it cancels/);
      assert.match(page.text, operation === 'update' ? /sends the change, with its text, to every attendee listed/ : /tells every attendee listed/);
      assert.doesNotMatch(page.text, /puts this event in your calendar/);
      assert.match(page.text, /chair@acme\.com/);
    }
  });

  void test('an approval the agent cannot send yet (paused: provider rate limit, mailbox to reconnect) is not reported as being sent', async () => {
    h.gateway.addApproval('acme', { id: 'ap-waiting', draft: draft('Waits') });
    const decide = h.gateway.decide.bind(h.gateway);
    h.gateway.decide = async (...args) => ({ ...(await decide(...args)), execution: 'waiting' });
    try {
      const answer = await post('/approvals/ap-waiting/approve', {});
      assert.equal(answer.status, 200);
      assert.match(answer.text, /Approved, but it is not sent yet: the agent cannot send just now/);
      assert.doesNotMatch(answer.text, /The agent is sending it/);
    } finally {
      h.gateway.decide = decide;
    }
  });

  void test('the edit page offers the Bcc for editing: an admin can drop the blind copy the model added', async () => {
    h.gateway.addApproval('acme', { id: 'ap-bcc', draft: draft('Quarterly figures', { bcc: ['archive@partner.example'] }) });
    const page = await send('GET', '/approvals/ap-bcc/edit');
    assert.equal(page.status, 200);
    assert.match(page.text, /The agent added a Bcc:<\/strong> <bdi>archive@partner\.example<\/bdi>/);
    assert.match(page.text, /<input id="bcc" name="bcc" type="text" maxlength="20000" value="archive@partner\.example" aria-describedby="bcc-note">/);
    const dropped = await post('/approvals/ap-bcc/edit', { to: 'client@example.com', cc: '', bcc: '', subject: 'Quarterly figures', body: 'See below.' });
    assert.equal(dropped.status, 200);
    assert.deepEqual(h.gateway.sent.at(-1)?.bcc, [], 'sent with no blind copy');
    h.gateway.addApproval('acme', { id: 'ap-bcc-blocked', draft: draft('Figures again') });
    const blocked = await post('/approvals/ap-bcc-blocked/edit', { to: 'client@example.com', bcc: 'attacker@evil.example', subject: 'Figures again', body: 'See below.' });
    assert.match(blocked.text, /The policy gate refused this email even with your approval/, 'a Bcc the admin adds is checked like To and Cc');
    h.gateway.addApproval('acme', { id: 'ap-no-bcc', draft: draft('No copies') });
    const plain = await send('GET', '/approvals/ap-no-bcc/edit');
    assert.doesNotMatch(plain.text, /The agent added a Bcc/, 'no note without a Bcc');
    assert.match(plain.text, /<input id="bcc" name="bcc" type="text" maxlength="20000" value="">/);
  });

  void test('an edited body of 100 000 characters in a three-byte script fits the form, and is sent as typed', async () => {
    h.gateway.addApproval('acme', { id: 'ap-long-body', draft: draft('長いメール') });
    const body = '日本語のメール。'.repeat(12_500);
    assert.equal(body.length, 100_000);
    const answer = await post('/approvals/ap-long-body/edit', { to: 'client@example.com', subject: '長いメール', body });
    assert.equal(answer.status, 200, answer.text.match(/<p class="[^"]*">([^<]*)/)?.[1]);
    assert.equal(h.gateway.sent.at(-1)?.draft.body, body);
  });

  void test('a block list of 10 000 entries (the most the settings hold) within its 250 000 characters can be saved from its form', async () => {
    const head = await settings.current('acme');
    // The entries already listed stay (removing one is a guard rail, which would ask for a confirmation first).
    const kept = head.config.blockList;
    const entries = [...kept, ...Array.from({ length: 10_000 - kept.length }, (_, index) => `s${String(index).padStart(5, '0')}.blocked.example`)];
    assert.ok(entries.join('\r\n').length <= 250_000, 'within the field limit');
    const answer = await post('/settings/section/blocklist', { base: String(head.version), reason: 'the agency list of bad senders', blockList: entries.join('\r\n') });
    assert.equal(answer.status, 303, answer.text.match(/<p class="[^"]*">([^<]*)/)?.[1]);
    assert.equal((await settings.current('acme')).config.blockList.length, 10_000);
  });

  void test('an export the agent cannot give shows its error page instead of downloading it as the export; error pages are not kept', async () => {
    const exportAudit = h.gateway.exportAudit.bind(h.gateway);
    h.gateway.exportAudit = () => Promise.reject(new FleetError('unavailable', 'the agent is restarting'));
    try {
      const answer = await post('/export', { format: 'csv' });
      assert.equal(answer.status, 503);
      assert.match(answer.text, /The agent cannot be reached/);
      assert.equal(answer.headers['content-disposition'], undefined, 'not offered as a download');
      assert.match(String(answer.headers['content-type']), /^text\/html/);
    } finally {
      h.gateway.exportAudit = exportAudit;
    }
    const working = await post('/export', { format: 'csv' });
    assert.equal(working.status, 200);
    assert.match(String(working.headers['content-disposition']), /^attachment; filename="audit-acme-\d{4}-\d{2}-\d{2}\.csv"$/);
    // A form refused before any session is read (too large) is an error page too: never kept by a cache.
    const tooLarge = await post('/approvals/ap-bcc/approve', { padding: 'x'.repeat(1_100_000) });
    assert.equal(tooLarge.status, 400);
    assert.equal(tooLarge.headers['cache-control'], 'no-store');
  });

  void test('on a phone, an attacker’s very long word stays on screen, and a bidirectional override in an address does not reverse the portal’s warning', async () => {
    chromium = await launchPortalBrowser(h.portal.caCertificatePem ?? '');
    const admin = await chromium.newAdmin(PHONE);
    await admin.context.addCookies([{ name: '__Host-fleet-session', value: token, url: h.portal.url, secure: true, httpOnly: true, sameSite: 'Strict' }]);
    const word = 'W'.repeat(300);
    h.gateway.addApproval('acme', {
      id: 'ap-hostile',
      draft: draft(`Re: ${word}`, { body: word }),
      // A quoted local part may carry any character once the mail parser decodes it.
      sender: { address: '"\u202Eevil"@example.com', authenticated: false, knownContact: false },
      thread: [{ from: `${'z'.repeat(120)}@example.com`, at: h.clock.now().toISOString(), subject: word, body: word, fromCorrespondent: true }],
    });
    for (const path of ['/approvals', '/approvals/ap-hostile', '/approvals/ap-hostile/edit', '/summary']) {
      await admin.page.goto(`${h.portal.url}${path}`);
      const overflow = Number(await admin.page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      assert.ok(overflow <= 0, `${path}: the page is ${overflow}px wider than the phone`);
    }
    await admin.page.goto(`${h.portal.url}/approvals/ap-hostile`);
    // Where the browser draws the letters of "NOT": left to right unless the override leaked into the sentence.
    const xs = (await admin.page.evaluate(`(() => {
      const paragraph = [...document.querySelectorAll('p.meta')].find((p) => p.textContent.includes('NOT authenticated'));
      if (!paragraph) return [];
      const walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(), steps = 0; node && steps < 50; node = walker.nextNode(), steps += 1) {
        const at = node.textContent.indexOf('NOT');
        if (at < 0) continue;
        return [0, 1, 2].map((offset) => {
          const range = document.createRange();
          range.setStart(node, at + offset);
          range.setEnd(node, at + offset + 1);
          return range.getBoundingClientRect().left;
        });
      }
      return [];
    })()`)) as number[];
    assert.equal(xs.length, 3, 'the warning is on the page');
    const [n = 0, o = 0, t = 0] = xs;
    assert.ok(n < o && o < t, `"NOT" is drawn left to right (x: ${xs.join(', ')})`);
  });
});

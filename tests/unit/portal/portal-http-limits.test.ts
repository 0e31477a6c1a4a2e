// The portal's listener and app at their limits: framing refused by both headers alike (X-Frame-Options
// said SAMEORIGIN beside `frame-ancestors 'none'`); a form's field count far enough below the parser's limit
// that a new email type does not break the rules form, and a clear page past it; and a Cookie header past
// Node's 16 KB (other sites under the parent domain fill it) still read, with a page, not a bare 431, past
// the portal's own bound.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CAPABILITIES, TEMPLATE_TYPES } from '@agent-fleet/kernel/client-config';
import { FORM_FIELD_LIMIT } from '../../../orchestrator/src/portal/http/form-body.ts';
import { SESSION_COOKIE } from '../../../orchestrator/src/portal/http/cookies.ts';
import { PORTAL_MAX_HEADER_BYTES } from '../../../orchestrator/src/portal/http/portal-server.ts';
import { sectionFormFields } from '../../../orchestrator/src/portal/http/routes-settings.ts';
import { SECTIONS } from '../../../orchestrator/src/portal/settings/settings-form.ts';
import { startEnrolledAdminPortal, type EnrolledAdminPortal } from '../../helpers/enrolled-admin-portal.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

/** Cookies of other sites under the parent domain, `bytes` long in all, in cookies of a size browsers keep. */
function neighbourCookies(bytes: number): string {
  const cookies: string[] = [];
  for (let index = 0; cookies.join('; ').length < bytes; index++) cookies.push(`site${index}=${'n'.repeat(3900)}`);
  return cookies.join('; ');
}

/** A GET with the headers as given (fetch would refuse nothing here, but reads a body-less 431 the same). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('the portal at its limits', () => {
  let portal: EnrolledAdminPortal;

  before(async () => {
    portal = await startEnrolledAdminPortal(ADMIN, 'portal-http-limits-');
  });
  after(() => portal.close());

  test('no page may be framed, by any site or by the portal itself: X-Frame-Options DENY agrees with the CSP', async () => {
    for (const path of ['/sign-in', '/no-such-page', '/static/portal.css']) {
      const answer = await fetch(`${portal.app.url}${path}`, { redirect: 'manual' });
      assert.equal(answer.headers.get('x-frame-options'), 'DENY', path);
      assert.match(answer.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
    }
  });

  test('every settings form has fewer than half the fields the parser takes', () => {
    // The rules form is the largest: a choice per email type the form offers, and the common fields.
    for (const section of SECTIONS) {
      const fields = sectionFormFields(section).length;
      assert.ok(fields * 2 <= FORM_FIELD_LIMIT, `${section}: ${fields} fields against a limit of ${FORM_FIELD_LIMIT}`);
    }
    assert.ok(CAPABILITIES.length + TEMPLATE_TYPES.length < FORM_FIELD_LIMIT);
  });

  test('a rules form with a field per email type reaches the route; a body past the field limit gets a page that says so', async () => {
    const browser = await portal.signedIn();
    await browser.get('/approvals');
    // As many fields as the parser takes: the route reads them, and names the first it does not know.
    const many: Record<string, string> = { base: '1', reason: 'r' };
    for (let index = 0; Object.keys(many).length < FORM_FIELD_LIMIT - 1; index++) many[`type.kind${index}`] = 'ask';
    const within = await browser.post('/settings/section/rules', many);
    assert.equal(within.status, 400);
    assert.match(within.text, /type\.kind0: is not a field of this form/, 'the route read the form');

    many['one.more'] = 'x';
    many['and.another'] = 'x';
    const past = await browser.post('/settings/section/rules', many);
    assert.equal(past.status, 400);
    assert.match(past.text, /<h1>The form has too many fields<\/h1>/);
    assert.match(past.text, new RegExp(`more than ${FORM_FIELD_LIMIT} fields, more than any page of the portal sends; nothing was changed`));
    assert.doesNotMatch(past.text, /at [\w.]+ \(|node_modules/, 'no stack');
    assert.equal(past.location, null);
  });

  test('a signed-in admin stays signed in with 40 KB of other sites’ cookies in the header', async () => {
    const browser = await portal.signedIn();
    const cookie = `${neighbourCookies(40 * 1024)}; ${SESSION_COOKIE}=${browser.cookie(SESSION_COOKIE) ?? ''}`;
    assert.ok(cookie.length > 16 * 1024, 'past Node’s default header limit');
    const page = await rawGet(`${portal.app.url}/approvals`, { cookie });
    assert.equal(page.status, 200, 'not refused, not sent to sign in');
    assert.match(page.text, /<h1>/);
  });

  test('past the portal’s own bound, the browser gets a page saying what to do, not a bare 431', async () => {
    const cookie = neighbourCookies(PORTAL_MAX_HEADER_BYTES + 1024);
    const page = await rawGet(`${portal.app.url}/approvals`, { cookie });
    assert.equal(page.status, 431);
    assert.match(String(page.headers['content-type']), /^text\/html; charset=utf-8/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.text, /<h1>Your browser sent too many cookies<\/h1>/);
    assert.match(page.text, /delete the cookies of this website and of the domain it belongs to/);
    assert.match(page.text, /Nothing was changed/);
    // The listener still answers the next request.
    assert.equal((await fetch(`${portal.app.url}/healthz`)).status, 200);
  });
});

describe('the portal’s overall request budget', () => {
  let portal: EnrolledAdminPortal;
  before(async () => {
    portal = await startEnrolledAdminPortal(ADMIN, 'portal-http-budget-');
  });
  after(() => portal.close());

  test('past 600 requests a minute from one address, the answer is the portal’s page, not a line of text', async () => {
    let answer: Response | undefined;
    for (let index = 0; index < 601; index++) {
      answer = await fetch(`${portal.app.url}/no-such-page`, { redirect: 'manual' });
      if (answer.status === 429) break;
      await answer.body?.cancel();
    }
    assert.equal(answer?.status, 429);
    const text = (await answer?.text()) ?? '';
    assert.match(text, /<h1>Too many requests<\/h1>/);
    assert.match(text, /Nothing was changed; wait a minute and try again/);
    assert.equal(answer?.headers.get('cache-control'), 'no-store');
  });
});

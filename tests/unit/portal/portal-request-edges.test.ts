// Requests a browser or a neighbour can send that the portal read wrongly: a Cookie header past 8 KB (the
// cookies of every site under a parent domain come with it) was ignored whole, signing the admin out and
// failing every form; a `notice` named after an object's own properties (`constructor`) printed JavaScript
// on the sign-in page; narrowing the consent took any fields. And the page foot: its button stands on a line
// of its own, not inside the sentence.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PRE_COOKIE, SESSION_COOKIE, parseCookies } from '../../../orchestrator/src/portal/http/cookies.ts';
import { settingsRoutes } from '../../../orchestrator/src/portal/http/routes-settings.ts';
import { startEnrolledAdminPortal, type EnrolledAdminPortal } from '../../helpers/enrolled-admin-portal.ts';
import type { IdentityApp, TestBrowser } from './identity-app-harness.ts';
import { startRouteHarness } from './portal-route-harness.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
/** Cookies other sites under the same parent domain may set: 9 KB, in cookies of a size browsers keep. */
const NEIGHBOURS = `_ga=${'a'.repeat(3000)}; consent=${'b'.repeat(3000)}; sso=${'c'.repeat(3000)}; theme=dark`;

describe('cookies read from a long header', () => {
  test('the portal’s own cookies are found however many other cookies come first', () => {
    const cookies = parseCookies(`${NEIGHBOURS}; ${SESSION_COOKIE}=session-token; ${PRE_COOKIE}=pre-token`);
    assert.equal(cookies.get(SESSION_COOKIE), 'session-token');
    assert.equal(cookies.get(PRE_COOKIE), 'pre-token');
  });

  test('values longer than any of the portal’s, or with characters it never uses, are skipped; the first of a name wins', () => {
    const cookies = parseCookies(`${SESSION_COOKIE}=first; ${SESSION_COOKIE}=second; long=${'c'.repeat(201)}; odd=a"b`);
    assert.equal(cookies.get(SESSION_COOKIE), 'first');
    assert.equal(cookies.has('long'), false);
    assert.equal(cookies.has('odd'), false);
  });
});

describe('the portal app under odd requests', () => {
  let app: IdentityApp;
  let portal: EnrolledAdminPortal;

  before(async () => {
    portal = await startEnrolledAdminPortal(ADMIN, 'portal-request-edges-');
    ({ app } = portal);
  });
  after(() => portal.close());

  const signedIn = (): Promise<TestBrowser> => portal.signedIn();

  test('a signed-in admin stays signed in, and can post a form, with 9 KB of other sites’ cookies in the header', async () => {
    const browser = await signedIn();
    const own = `${SESSION_COOKIE}=${browser.cookie(SESSION_COOKIE) ?? ''}`;
    const page = await fetch(`${app.url}/approvals`, { redirect: 'manual', headers: { cookie: `${NEIGHBOURS}; ${own}` } });
    assert.equal(page.status, 200, 'not sent to sign in');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const out = await fetch(`${app.url}/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ _csrf: csrf }),
      headers: { cookie: `${NEIGHBOURS}; ${own}`, origin: app.url, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(out.headers.get('location'), '/sign-in?notice=signed-out', 'the form was accepted');
  });

  test('a notice the portal does not have shows nothing, whatever its name', async () => {
    for (const notice of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'nothing']) {
      const page = await app.browser().get(`/sign-in?notice=${notice}`);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /class="notice"/, notice);
    }
    assert.match((await app.browser().get('/sign-in?notice=signed-out')).text, /<p class="notice" role="status">You are signed out\.<\/p>/);
  });

  test('the page foot says what signing out everywhere does, then offers it as a button on its own line', async () => {
    const page = (await (await signedIn()).get('/approvals')).text;
    const foot = /<footer class="page-foot">([\s\S]*?)<\/footer>/.exec(page)?.[1] ?? '';
    const paragraph = /<p id="([^"]+)">([\s\S]*?)<\/p>/.exec(foot);
    assert.ok(paragraph, foot);
    assert.doesNotMatch(paragraph[2] ?? '', /<button/, 'the button is not inside the sentence');
    assert.match(paragraph[2] ?? '', /signs you out in every browser/);
    const form = /<form method="post" action="\/sign-out\/everywhere">([\s\S]*?)<\/form>/.exec(foot)?.[1] ?? '';
    assert.match(form, new RegExp(`<button type="submit" class="link" aria-describedby="${paragraph[1] ?? ''}">Sign out on every device</button>`));
  });
});

describe('a form that is only a button', () => {
  test('narrowing the consent refuses a field its form does not have, before asking the agent', async () => {
    let asked = 0;
    const harness = await startRouteHarness(settingsRoutes, {
      settings: { requestNarrowing: async () => void (asked += 1) } as never,
    });
    try {
      const answer = await harness.post('/settings/narrow', { scopes: 'mail.send' });
      assert.equal(answer.status, 400);
      assert.match(answer.text, /scopes: is not a field of this form/);
      assert.equal(asked, 0);
    } finally {
      await harness.close();
    }
  });
});

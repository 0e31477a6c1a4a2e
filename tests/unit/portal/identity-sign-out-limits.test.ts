// Sign-out ended only the browser it was pressed in: an admin who left a session open on another computer
// had no way to end it short of a new enrolment from the operator. And one per-address limit counted every
// sign-in request, successful or not, passkeys and codes alike: admins behind one office proxy used up each
// other's sign-ins, and anyone there guessing codes blocked their passkeys too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEnrolledAdminPortal, type EnrolledAdminPortal } from '../../helpers/enrolled-admin-portal.ts';
import type { IdentityFixture } from './identity-fixture.ts';
import type { IdentityApp, TestBrowser } from './identity-app-harness.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

describe('identity routes in the portal app', () => {
  let f: IdentityFixture;
  let app: IdentityApp;
  let portal: EnrolledAdminPortal;

  before(async () => {
    portal = await startEnrolledAdminPortal(ADMIN, 'portal-identity-app-');
    ({ f, app } = portal);
  });
  after(() => portal.close());

  const signedIn = (): Promise<TestBrowser> => portal.signedIn();

  test('signing out everywhere ends every session of the admin, in every browser', async () => {
    const here = await signedIn();
    const elsewhere = await signedIn();
    assert.equal((await elsewhere.get('/approvals')).status, 200);
    assert.equal((await here.get('/approvals')).status, 200, 'the page with the sign-out form');

    const out = await here.post('/sign-out/everywhere');
    assert.equal(out.status, 303);
    assert.equal(out.location, '/sign-in?notice=signed-out-everywhere');
    assert.match((await here.get(out.location)).text, /signed out in every browser/);
    assert.match((await elsewhere.get('/approvals')).location ?? '', /^\/sign-in/, 'the other browser is signed out');
    assert.ok(app.events.some((event) => event.event === 'portal-sign-out-everywhere' && event.email === ADMIN.email));
  });

  test('an admin signed in in this browser can enrol again in it (a new phone): each step is accepted', async () => {
    const browser = await signedIn();
    assert.equal((await browser.get('/approvals')).status, 200);
    const { token } = await f.enrolment.issue(ADMIN.clientId, ADMIN.email);
    assert.equal((await browser.get(`/enrol/${token}`)).status, 200);
    const started = await browser.post(`/enrol/${token}`);
    assert.equal(started.location, '/enrol/setup', started.text.slice(0, 400));
    assert.equal((await browser.get('/enrol/setup')).status, 200);
    const app = await browser.post('/enrol/app');
    assert.equal(app.location, '/enrol/setup', app.text.slice(0, 400));
    assert.match((await browser.get('/enrol/setup')).text, /Confirm the app/);
  });

  test('successful code sign-ins use up no one’s attempts; refused codes leave passkeys working', async () => {
    for (let index = 0; index < 35; index += 1) await signedIn();

    const guesser = app.browser();
    await guesser.get('/sign-in');
    let limited = 0;
    for (let index = 0; index < 31; index += 1) {
      const answer = await guesser.post('/sign-in/code', { email: `guess-${index}@acme.example`, code: '000000' });
      if (answer.status === 429) limited += 1;
    }
    assert.equal(limited, 1, 'the 31st refused code in a minute is refused unchecked');

    const colleague = app.browser();
    await colleague.get('/sign-in');
    const options = await colleague.postJson('/webauthn/sign-in/options', {});
    assert.equal(options.status, 200, 'a passkey sign-in from the same address still starts');
  });
});

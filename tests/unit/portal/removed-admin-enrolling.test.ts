// An admin removed from the client config lost their signed-in sessions at the next request, but an
// enrolment they had started kept going: its session still opened the set-up page (with the app's secret)
// and still stored new passkeys and apps for an address that is no longer an admin. An enrolling session is
// the admin's as much as a signed-in one, and ends the same way.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PRE_COOKIE } from '../../../orchestrator/src/portal/http/cookies.ts';
import { tokenHash } from '../../../orchestrator/src/portal/crypto/tokens.ts';
import { startIdentityApp, type IdentityApp } from './identity-app-harness.ts';
import { startIdentityFixture, type IdentityFixture } from './identity-fixture.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

describe('an enrolment of an admin the client removed', () => {
  let f: IdentityFixture;
  let app: IdentityApp;
  let dataDir: string;

  before(async () => {
    f = await startIdentityFixture();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'portal-removed-enrolling-'));
    app = await startIdentityApp(f, dataDir);
  });
  after(async () => {
    await app.close();
    await f.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('ends at the next request: no set-up page, nothing stored, the session gone', async () => {
    f.admins.set(ADMIN.clientId, [ADMIN.email]);
    const { token } = await f.enrolment.issue(ADMIN.clientId, ADMIN.email);
    const browser = app.browser();
    assert.equal((await browser.get(`/enrol/${token}`)).status, 200);
    assert.equal((await browser.post(`/enrol/${token}`)).location, '/enrol/setup');
    const enrolling = browser.cookie(PRE_COOKIE) ?? '';
    const setup = await browser.get('/enrol/setup');
    assert.equal(setup.status, 200, 'while an admin, the set-up page opens');

    f.admins.set(ADMIN.clientId, []);
    const removed = await browser.get('/enrol/setup');
    assert.equal(removed.status, 404);
    assert.doesNotMatch(removed.text, /authenticator app/i);
    assert.equal(await f.store.sessions.getSession(tokenHash(enrolling)), null, 'the enrolling session is ended');

    // The form the page showed before the removal, posted now.
    const appSetUp = await browser.post('/enrol/app');
    assert.notEqual(appSetUp.location, '/enrol/setup');
    assert.deepEqual(await f.store.credentials.listCredentials(ADMIN), [], 'no app was set up for the removed address');
  });

  test('an enrolment of an admin still listed goes on', async () => {
    f.admins.set(ADMIN.clientId, [ADMIN.email]);
    const { token } = await f.enrolment.issue(ADMIN.clientId, ADMIN.email);
    const browser = app.browser();
    await browser.get(`/enrol/${token}`);
    await browser.post(`/enrol/${token}`);
    assert.equal((await browser.get('/enrol/setup')).status, 200);
    assert.equal((await browser.post('/enrol/app')).location, '/enrol/setup');
    assert.equal((await browser.get('/enrol/setup')).status, 200);
  });
});

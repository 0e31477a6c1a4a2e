// An enrolment left unfinished kept what was set up under it for ever: passkeys and a sealed app secret
// that could never sign in (only a finished enrolment's do) stayed in the store until the admin happened to
// finish another one, and one enrolment link could store any number of passkeys. What an enrolment that
// can no longer finish left now goes (housekeeping, and a new link for the admin), and an enrolment holds
// a bounded number of passkeys.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MAX_PASSKEYS_PER_ENROLMENT } from '../../../orchestrator/src/portal/identity/enrolment.ts';
import { PRE_SESSION_MAX_MS } from '../../../orchestrator/src/portal/identity/sessions.ts';
import { MINUTE, startIdentityFixture, type IdentityFixture } from './identity-fixture.ts';
import { SoftwareAuthenticator } from './software-authenticator.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const OTHER = { clientId: 'acme', email: 'lee@acme.example' };

describe('unfinished enrolments', () => {
  let f: IdentityFixture;
  before(async () => {
    f = await startIdentityFixture();
    f.admins.set('acme', [ADMIN.email, OTHER.email]);
  });
  after(() => f.close());
  beforeEach(async () => {
    for (const admin of [ADMIN, OTHER]) await f.store.forgetAdmin(admin);
  });

  const kinds = async (admin: typeof ADMIN) =>
    (await f.store.credentials.listCredentials(admin)).map((credential) => [credential.kind, credential.confirmed]);

  test('what an abandoned enrolment set up goes once it can no longer finish; finished factors stay', async () => {
    const first = await f.startEnrolment(ADMIN);
    const key = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, first, key), true);
    assert.equal(await f.enrolment.finish(ADMIN, first.enrolmentHash), true);

    const abandoned = await f.startEnrolment(ADMIN);
    assert.equal(await f.registerPasskey(ADMIN, abandoned, new SoftwareAuthenticator()), true);
    await f.setUpApp(ADMIN, abandoned);
    const never = await f.startEnrolment(OTHER);
    await f.totp.pendingSetup(OTHER, never.enrolmentHash, 'test', true);

    f.advance(PRE_SESSION_MAX_MS - MINUTE);
    assert.equal(await f.enrolment.sweepUnfinished(), 0, 'not while the set-up may still be finished');
    f.advance(2 * MINUTE);
    assert.equal(await f.enrolment.sweepUnfinished(), 3);
    assert.deepEqual(await kinds(ADMIN), [['passkey', true]]);
    assert.deepEqual(await kinds(OTHER), []);
    assert.deepEqual(await f.signInWithPasskey(key), ADMIN, 'the finished passkey still signs in');
  });

  test('an enrolment in progress is left alone', async () => {
    const old = await f.startEnrolment(ADMIN);
    await f.totp.pendingSetup(ADMIN, old.enrolmentHash, 'test', true);
    f.advance(PRE_SESSION_MAX_MS + MINUTE);
    const current = await f.startEnrolment(ADMIN);
    const key = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, current, key), true);
    assert.equal(await f.enrolment.sweepUnfinished(), 0);
    assert.equal(await f.enrolment.finish(ADMIN, current.enrolmentHash), true);
    assert.deepEqual(await f.signInWithPasskey(key), ADMIN);
  });

  test('a new enrolment link clears what the admin’s abandoned ones left', async () => {
    const abandoned = await f.startEnrolment(ADMIN);
    assert.equal(await f.registerPasskey(ADMIN, abandoned, new SoftwareAuthenticator()), true);
    f.advance(PRE_SESSION_MAX_MS + MINUTE);
    await f.enrolment.issue(ADMIN.clientId, ADMIN.email);
    assert.deepEqual(await kinds(ADMIN), []);
  });

  test(`an enrolment holds at most ${MAX_PASSKEYS_PER_ENROLMENT} passkeys`, async () => {
    const enrolling = await f.startEnrolment(ADMIN);
    for (let index = 0; index < MAX_PASSKEYS_PER_ENROLMENT; index += 1)
      assert.equal(await f.registerPasskey(ADMIN, enrolling, new SoftwareAuthenticator()), true);
    assert.equal(await f.registerPasskey(ADMIN, enrolling, new SoftwareAuthenticator()), false);
    assert.equal((await f.enrolment.progress(ADMIN, enrolling.enrolmentHash)).passkeys, MAX_PASSKEYS_PER_ENROLMENT);
  });
});

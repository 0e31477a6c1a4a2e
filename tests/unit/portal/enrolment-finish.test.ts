// Credentials set up under an enrolment signed in before the enrolment was finished: whoever used an
// enrolment link (the admin, or someone who intercepted it) could register a passkey or app and leave
// without finishing, keeping a working factor while the admin's old ones (a lost phone) also kept working,
// and without ending the admin's sessions. A new factor now takes effect only when its enrolment finishes,
// which also retires every older one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MINUTE, startIdentityFixture, type IdentityFixture } from './identity-fixture.ts';
import { SoftwareAuthenticator } from './software-authenticator.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

describe('an enrolment takes effect when it finishes', () => {
  let f: IdentityFixture;
  before(async () => {
    f = await startIdentityFixture();
    f.admins.set('acme', [ADMIN.email]);
  });
  after(() => f.close());

  const codeSignIn = async (secret: string) => {
    f.advance(MINUTE);
    return (await f.totp.signIn(ADMIN.email, await f.code(secret))).ok;
  };

  test('a passkey registered under an unfinished enrolment does not sign in until it finishes', async () => {
    const enrolling = await f.startEnrolment(ADMIN);
    const key = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, enrolling, key), true);
    assert.deepEqual(await f.enrolment.progress(ADMIN, enrolling.enrolmentHash), { passkeys: 1, totp: false });
    assert.equal(await f.signInWithPasskey(key), null, 'not before the enrolment finishes');

    assert.equal(await f.enrolment.finish(ADMIN, enrolling.enrolmentHash), true);
    assert.deepEqual(await f.signInWithPasskey(key), ADMIN);
  });

  test('an app confirmed under an unfinished enrolment gives no code sign-in until it finishes', async () => {
    const enrolling = await f.startEnrolment(ADMIN);
    const secret = await f.setUpApp(ADMIN, enrolling);
    assert.deepEqual(await f.enrolment.progress(ADMIN, enrolling.enrolmentHash), { passkeys: 0, totp: true });
    assert.equal(await codeSignIn(secret), false, 'not before the enrolment finishes');

    assert.equal(await f.enrolment.finish(ADMIN, enrolling.enrolmentHash), true);
    assert.equal(await codeSignIn(secret), true);
  });

  test('an abandoned re-enrolment leaves the old factors as they were, and no new one', async () => {
    const first = await f.startEnrolment(ADMIN);
    const oldKey = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, first, oldKey), true);
    const oldSecret = await f.setUpApp(ADMIN, first);
    assert.equal(await f.enrolment.finish(ADMIN, first.enrolmentHash), true);
    const signedIn = await f.sessions.start('active', ADMIN);

    const second = await f.startEnrolment(ADMIN);
    const newKey = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, second, newKey), true);
    const newSecret = await f.setUpApp(ADMIN, second);
    // The set-up is left here, unfinished.
    assert.equal(await f.signInWithPasskey(newKey), null);
    assert.equal(await codeSignIn(newSecret), false);
    assert.deepEqual(await f.signInWithPasskey(oldKey), ADMIN);
    assert.equal(await codeSignIn(oldSecret), true);
    assert.ok(await f.sessions.resolve(signedIn.token), 'the signed-in session goes on');
  });

  test('a finished re-enrolment retires the old factors and sessions; an app never confirmed does not count', async () => {
    const first = await f.startEnrolment(ADMIN);
    const oldKey = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, first, oldKey), true);
    assert.equal(await f.enrolment.finish(ADMIN, first.enrolmentHash), true);
    const signedIn = await f.sessions.start('active', ADMIN);

    const second = await f.startEnrolment(ADMIN);
    await f.totp.pendingSetup(ADMIN, second.enrolmentHash, 'test', true);
    assert.equal(await f.enrolment.finish(ADMIN, second.enrolmentHash), false, 'an app shown but never confirmed');
    const newKey = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, second, newKey), true);
    assert.equal(await f.enrolment.finish(ADMIN, second.enrolmentHash), true);

    assert.deepEqual(await f.signInWithPasskey(newKey), ADMIN);
    assert.equal(await f.signInWithPasskey(oldKey), null, 'the old passkey is retired');
    assert.equal(await f.sessions.resolve(signedIn.token), null, 'the old session ended');
    const left = await f.store.credentials.listCredentials(ADMIN);
    assert.deepEqual(
      left.map((credential) => [credential.kind, credential.confirmed, credential.enrolmentHash]),
      [['passkey', true, second.enrolmentHash]],
      'only the finished enrolment’s passkey is left (the unconfirmed app is gone)',
    );
  });

  test('an admin removed from the client config during the set-up cannot finish it', async () => {
    const enrolling = await f.startEnrolment(ADMIN);
    const key = new SoftwareAuthenticator();
    assert.equal(await f.registerPasskey(ADMIN, enrolling, key), true);
    f.admins.set('acme', []);
    try {
      await assert.rejects(f.enrolment.finish(ADMIN, enrolling.enrolmentHash), { code: 'not_found' });
    } finally {
      f.admins.set('acme', [ADMIN.email]);
    }
    assert.equal(await f.signInWithPasskey(key), null);
  });
});

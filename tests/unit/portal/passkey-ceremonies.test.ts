// Passkey registration and sign-in through @simplewebauthn's real verification, driven by a software
// authenticator: what a hostile or broken authenticator answer must not achieve.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MINUTE, RP, startIdentityFixture, type IdentityFixture } from './identity-fixture.ts';
import { SoftwareAuthenticator, type Tampering } from './software-authenticator.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const OTHER = { clientId: 'beta', email: 'eli@beta.example' };

describe('passkey ceremonies', () => {
  let f: IdentityFixture;
  before(async () => {
    f = await startIdentityFixture();
    f.admins.set('acme', [ADMIN.email]);
    f.admins.set('beta', [OTHER.email]);
  });
  after(() => f.close());

  /** An enrolled passkey of `admin` (enrolment finished). */
  async function enrolled(admin: typeof ADMIN, authenticator = new SoftwareAuthenticator()) {
    const enrolling = await f.startEnrolment(admin);
    assert.equal(await f.registerPasskey(admin, enrolling, authenticator), true, 'registered');
    assert.equal(await f.enrolment.finish(admin, enrolling.enrolmentHash), true, 'finished');
    return authenticator;
  }

  async function signInTampered(authenticator: SoftwareAuthenticator, tampering: Tampering) {
    const anonymous = await f.sessions.start('anonymous', null);
    const options = await f.passkeys.authenticationOptions(anonymous);
    return f.passkeys.authenticate(anonymous, authenticator.assert(options, RP.origin, tampering));
  }

  test('an enrolled passkey signs in as its own admin', async () => {
    const key = await enrolled(ADMIN);
    assert.deepEqual(await f.signInWithPasskey(key), ADMIN);
  });

  test('another origin or RP ID, or no user verification, is refused at sign-in and at registration', async () => {
    const key = await enrolled(ADMIN);
    for (const tampering of [
      { origin: 'https://portal.test.evil.example' },
      { origin: 'http://portal.test' },
      { origin: 'https://portal.test:8443' },
      { rpId: 'test' },
      { rpId: 'evil.example' },
      { userVerified: false },
    ]) {
      assert.equal(await signInTampered(key, tampering), null, JSON.stringify(tampering));
      const enrolling = await f.startEnrolment(ADMIN);
      const options = await f.passkeys.registrationOptions(enrolling.session, ADMIN);
      const response = new SoftwareAuthenticator().register(options, RP.origin, tampering);
      assert.equal(
        await f.passkeys.register(enrolling.session, ADMIN, enrolling.enrolmentHash, response),
        false,
        `registration with ${JSON.stringify(tampering)}`,
      );
    }
    assert.deepEqual(await f.signInWithPasskey(key), ADMIN, 'the honest answer still works');
  });

  test('a challenge is used once, belongs to its session and expires', async () => {
    const key = await enrolled(ADMIN);
    const anonymous = await f.sessions.start('anonymous', null);
    const options = await f.passkeys.authenticationOptions(anonymous);
    const answer = key.assert(options, RP.origin);
    const elsewhere = await f.sessions.start('anonymous', null);
    await f.passkeys.authenticationOptions(elsewhere);
    assert.equal(await f.passkeys.authenticate(elsewhere, answer), null, 'not in another session');
    assert.deepEqual(await f.passkeys.authenticate(anonymous, answer), ADMIN);
    assert.equal(await f.passkeys.authenticate(anonymous, answer), null, 'not twice');

    const late = await f.passkeys.authenticationOptions(anonymous);
    f.advance(6 * MINUTE);
    assert.equal(await f.passkeys.authenticate(anonymous, key.assert(late, RP.origin)), null, 'not after 5 minutes');
  });

  test('a cloned authenticator is refused once the original counted past it', async () => {
    const key = await enrolled(ADMIN, new SoftwareAuthenticator({ counter: 10 }));
    const clone = key.clone();
    assert.deepEqual(await f.signInWithPasskey(key), ADMIN);
    assert.deepEqual(await f.signInWithPasskey(key), ADMIN);
    assert.equal(await f.signInWithPasskey(clone), null, 'the clone reports a counter already seen');
  });

  test("a passkey proves its own admin only: one admin's key never signs in as another", async () => {
    const dana = await enrolled(ADMIN);
    const eli = await enrolled(OTHER);
    assert.deepEqual(await f.signInWithPasskey(dana), ADMIN);
    assert.deepEqual(await f.signInWithPasskey(eli), OTHER);
    // Eli re-registers Dana's credential id under his own key: the portal keeps one credential per id.
    const enrolling = await f.startEnrolment(OTHER);
    const impostor = new SoftwareAuthenticator({ credentialId: dana.credentialId });
    assert.equal(await f.registerPasskey(OTHER, enrolling, impostor), false, 'a credential id already known');
    assert.deepEqual(await f.signInWithPasskey(dana), ADMIN, "Dana's passkey still signs in as Dana");
    assert.equal(await f.signInWithPasskey(impostor), null);
  });
});

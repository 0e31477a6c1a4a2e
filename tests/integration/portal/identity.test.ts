import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { PortalBrowser } from './browser.ts';
import {
  createPasskey,
  enrolWithPasskey,
  finishEnrolment,
  setUpApp,
  signInWithCode,
  signInWithPasskey,
  signOut,
  startEnrolment,
  totpCode,
} from './flows.ts';
import type { PortalHarness } from './portal-harness.ts';
import { portalInChromium } from './portal-in-chromium.ts';

const MINUTE = 60_000;

void describe('portal identity in Chromium: enrolment, passkeys, TOTP, sessions', () => {
  let h: PortalHarness;
  let chromium: PortalBrowser;

  portalInChromium((harness, browser) => {
    h = harness;
    chromium = browser;
  });

  void test('an enrolment link changes nothing when opened, works once when started, and leaves a passkey that signs in', async () => {
    const admin = await chromium.newAdmin();
    const invite = await h.portal.inviteAdmin('acme', 'admin@acme.com');
    for (let visit = 0; visit < 2; visit++) {
      await admin.page.goto(invite.url);
      await admin.page.getByText('This link is for admin@acme.com').waitFor();
    }
    await admin.page.getByRole('button', { name: 'Start the set-up' }).click();
    await admin.page.waitForURL('**/enrol/setup');
    await createPasskey(admin.page);
    const secret = await setUpApp(h, admin.page);
    await finishEnrolment(admin.page);
    assert.ok(
      h.gateway.events.some(
        (event) =>
          event.clientId === 'acme' && event.by === 'admin@acme.com' && event.event === 'portal-enrolled',
      ),
    );

    const cookies = await admin.context.cookies(h.portal.url);
    const session = cookies.find((cookie) => cookie.name === '__Host-fleet-session');
    assert.ok(session, 'a __Host- session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');
    assert.equal(session.expires, -1, 'a browser-session cookie: the server ends sessions');

    // Nothing secret in the database in the clear: not the link token, the session token or the TOTP secret.
    const dump =
      JSON.stringify(await h.sql.query('SELECT * FROM portal_enrolments')) +
      JSON.stringify(await h.sql.query('SELECT * FROM portal_credentials')) +
      JSON.stringify(await h.sql.query('SELECT * FROM portal_sessions'));
    const token = new URL(invite.url).pathname.split('/').pop() ?? '';
    assert.ok(!dump.includes(token), 'enrolment token stored hashed');
    assert.ok(!dump.includes(session.value), 'session token stored hashed');
    assert.ok(!dump.includes(secret), 'TOTP secret sealed');

    await signOut(admin.page);
    await signInWithPasskey(h, admin.page);
    await admin.page.waitForURL('**/approvals');
    await admin.page.getByRole('heading', { name: 'Approvals' }).waitFor();

    await admin.page.goto(invite.url);
    assert.equal(await admin.page.locator('h1').innerText(), 'Not found');
    await admin.context.close();
  });

  void test('TOTP fallback: a code signs in once, wrong codes lock this browser, the passkey still works, the lock ends', async () => {
    const admin = await chromium.newAdmin();
    await startEnrolment(h, admin, 'acme', 'second@acme.com');
    await createPasskey(admin.page);
    const secret = await setUpApp(h, admin.page);
    await finishEnrolment(admin.page);
    await signOut(admin.page);

    h.clock.advance(MINUTE);
    const code = await totpCode(h, secret);
    await signInWithCode(h, admin.page, 'second@acme.com', code);
    await admin.page.waitForURL('**/approvals');
    await signOut(admin.page);

    await signInWithCode(h, admin.page, 'second@acme.com', code);
    await admin.page.getByText('That code did not work').waitFor();
    for (let attempt = 0; attempt < 4; attempt++) {
      await signInWithCode(h, admin.page, 'second@acme.com', code === '000000' ? '111111' : '000000');
    }
    await admin.page.getByText('Too many attempts from this device').waitFor();
    h.clock.advance(MINUTE);
    await signInWithCode(h, admin.page, 'second@acme.com', await totpCode(h, secret));
    await admin.page.getByText('Too many attempts from this device').waitFor();
    assert.match(admin.page.url(), /\/sign-in/);

    await signInWithPasskey(h, admin.page);
    await admin.page.waitForURL('**/approvals');
    await signOut(admin.page);

    h.clock.advance(15 * MINUTE);
    await signInWithCode(h, admin.page, 'second@acme.com', await totpCode(h, secret));
    await admin.page.waitForURL('**/approvals');
    await admin.context.close();
  });

  void test('a session ends after the idle time, and after the absolute time however busy', async () => {
    const admin = await chromium.newAdmin();
    await enrolWithPasskey(h, admin, 'beta', 'boss@beta.com');
    h.clock.advance(31 * MINUTE);
    await admin.page.goto(`${h.portal.url}/approvals`);
    await admin.page.waitForURL('**/sign-in?next=%2Fapprovals');

    await signInWithPasskey(h, admin.page, '/sign-in');
    await admin.page.waitForURL('**/approvals');
    let signedIn = 0;
    for (let step = 0; step < 30; step++) {
      h.clock.advance(29 * MINUTE);
      await admin.page.goto(`${h.portal.url}/approvals`);
      if (!admin.page.url().endsWith('/approvals')) break;
      signedIn++;
    }
    assert.equal(signedIn, 24, 'active for 12 h (24 steps of 29 min), then signed out');
    assert.match(admin.page.url(), /\/sign-in/);
    await admin.context.close();
  });

  void test('an admin removed from the client config loses their sessions and credentials at once', async () => {
    const admin = await chromium.newAdmin();
    h.gateway.clients.get('beta')?.admins.push('temp@beta.com');
    await enrolWithPasskey(h, admin, 'beta', 'temp@beta.com');
    assert.ok(
      (await h.store.credentials.listCredentials({ clientId: 'beta', email: 'temp@beta.com' })).length > 0,
    );
    const beta = h.gateway.clients.get('beta');
    if (beta) beta.admins = beta.admins.filter((address) => address !== 'temp@beta.com');
    await admin.page.goto(`${h.portal.url}/approvals`);
    await admin.page.waitForURL('**/sign-in**');
    assert.deepEqual(
      await h.store.credentials.listCredentials({ clientId: 'beta', email: 'temp@beta.com' }),
      [],
    );
    await signInWithPasskey(h, admin.page, '/sign-in');
    await admin.page.getByText('This passkey is not known here').waitFor();
    await assert.rejects(h.portal.inviteAdmin('beta', 'temp@beta.com'), /not an admin of beta/);
    await admin.context.close();
  });
});

void describe('portal sign-in lockouts in Chromium: device cookies', () => {
  let h: PortalHarness;
  let chromium: PortalBrowser;

  portalInChromium((harness, browser) => {
    h = harness;
    chromium = browser;
  });

  void test('wrong codes from someone who knows the address lock out unknown devices only: the admin’s own browser still signs in with a code', async () => {
    // An admin with only an authenticator app (no passkey), who has signed in with this browser before.
    const admin = await chromium.newAdmin();
    h.gateway.clients.get('acme')?.admins.push('apponly@acme.com');
    await startEnrolment(h, admin, 'acme', 'apponly@acme.com');
    const secret = await setUpApp(h, admin.page);
    await finishEnrolment(admin.page);
    await signOut(admin.page);
    const device = (await admin.context.cookies(h.portal.url)).find(
      (cookie) => cookie.name === '__Host-fleet-device',
    );
    assert.ok(device, 'a device cookie, kept across sign-out');
    assert.deepEqual(
      [device.httpOnly, device.secure, device.sameSite, device.path],
      [true, true, 'Strict', '/'],
    );
    assert.ok(
      device.expires > h.clock.now().getTime() / 1000 + 30 * 86_400,
      'kept for months, not for the session',
    );

    // Someone else, in another browser, knows the address and guesses until the lockout.
    const attacker = await chromium.newAdmin();
    h.clock.advance(MINUTE);
    const wrong = (await totpCode(h, secret)) === '000000' ? '111111' : '000000';
    for (let attempt = 0; attempt < 5; attempt++)
      await signInWithCode(h, attacker.page, 'apponly@acme.com', wrong);
    const refusal = attacker.page.getByRole('alert');
    await refusal.getByText('Too many attempts from this device').waitFor();
    const until = new Date(Math.ceil((h.clock.now().getTime() + 15 * MINUTE) / MINUTE) * MINUTE);
    assert.match(
      await refusal.innerText(),
      // The day is named when the lockout ends on another day than today (UTC).
      new RegExp(`try again at ${until.toISOString().slice(0, 10) === h.clock.now().toISOString().slice(0, 10) ? '' : `${until.toISOString().slice(0, 10)} `}${until.toISOString().slice(11, 16)} UTC, or use your passkey`),
    );
    await signInWithCode(h, attacker.page, 'apponly@acme.com', await totpCode(h, secret));
    await refusal.getByText('Too many attempts from this device').waitFor();
    assert.match(attacker.page.url(), /\/sign-in/, 'the right code from an unknown device is refused too');
    assert.ok(
      h.gateway.events.some(
        (event) =>
          event.clientId === 'acme' &&
          event.by === 'apponly@acme.com' &&
          event.event === 'portal-codes-locked-unknown-devices',
      ),
      'the lockout is in the client’s trail',
    );

    // The admin's browser is a known device: its codes still work.
    h.clock.advance(MINUTE);
    await signInWithCode(h, admin.page, 'apponly@acme.com', await totpCode(h, secret));
    await admin.page.waitForURL('**/approvals');

    // An altered cookie makes no browser known.
    const forged = await chromium.newAdmin();
    const copied = device.value.slice(0, -2) + (device.value.endsWith('AA') ? 'BA' : 'AA');
    await forged.context.addCookies([{ ...device, value: copied }]);
    h.clock.advance(MINUTE);
    await signInWithCode(h, forged.page, 'apponly@acme.com', await totpCode(h, secret));
    await forged.page.getByRole('alert').getByText('Too many attempts from this device').waitFor();
    await Promise.all([admin.context.close(), attacker.context.close(), forged.context.close()]);
  });
});

void describe('portal enrolment in Chromium: a link from another site mid-enrolment', () => {
  let h: PortalHarness;
  let chromium: PortalBrowser;

  portalInChromium((harness, browser) => {
    h = harness;
    chromium = browser;
  });

  void test('a link from another site during the set-up leaves the enrolment in progress, to be finished', async () => {
    const admin = await chromium.newAdmin();
    h.gateway.clients.get('acme')?.admins.push('linked@acme.com');
    await startEnrolment(h, admin, 'acme', 'linked@acme.com');
    await createPasskey(admin.page);
    // Another site (webmail, say) links to the portal: a cross-site navigation.
    const elsewhere = http.createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<a href="${h.portal.url}/sign-in">portal</a>`);
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      await admin.page.goto(`http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`);
      await admin.page.getByRole('link', { name: 'portal' }).click();
      await admin.page.waitForURL('**/sign-in');
    } finally {
      elsewhere.close();
    }
    await admin.page.goto(`${h.portal.url}/enrol/setup`);
    await admin.page.getByText(/Passkey saved/).waitFor();
    await finishEnrolment(admin.page);
    await signOut(admin.page);
    await signInWithPasskey(h, admin.page);
    await admin.page.waitForURL('**/approvals');
    await admin.context.close();
  });
});

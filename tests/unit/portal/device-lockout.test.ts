// The portal's TOTP lockout used against an admin: enough wrong codes for an address locked its codes for
// everyone, so anyone who knew the address of an admin with only an authenticator app (no passkey) could
// keep them out. Failures now count per device (OWASP device cookies): a browser that signed in as the
// address before has its own count; all other browsers share one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { generate, generateSecret } from 'otplib';
import type { LockoutPolicy } from '../../../orchestrator/src/ports/portal-store.ts';
import { DEVICE_TRUST_MS, DeviceCookies } from '../../../orchestrator/src/portal/identity/device-cookies.ts';
import { lockoutMessage, tryAgainAt } from '../../../orchestrator/src/portal/identity/lockout-message.ts';
import { TotpFactor, type CodeSignIn } from '../../../orchestrator/src/portal/identity/totp.ts';
import { confirmedTotpCredential, memoryTotpStore } from './memory-totp-store.ts';

const EMAIL = 'admin@acme.com';
const POLICY: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000 };
const T0 = new Date('2026-05-04T10:00:00.000Z');

function portal() {
  const key = randomBytes(32);
  const secret = generateSecret({ length: 20 });
  const credential = confirmedTotpCredential({ key, secret, email: EMAIL, createdAt: T0 });
  let now = T0;
  const totp = new TotpFactor({
    store: memoryTotpStore(credential),
    clock: { now: () => now },
    sealingKey: key,
    lockout: POLICY,
  });
  const code = () => generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
  const wrong = async () => String((Number(await code()) + 500_000) % 1_000_000).padStart(6, '0');
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  return { totp, code, wrong, advance };
}

const refusal = (outcome: CodeSignIn) => (outcome.ok ? null : outcome);

describe('device cookies', () => {
  const cookies = new DeviceCookies(randomBytes(32));

  test('name a device for the address they were issued for only, until they expire', () => {
    const issued = cookies.issue(EMAIL, T0);
    assert.match(issued.value, /^[A-Za-z0-9_-]{72}$/, 'a value the cookie parser keeps');
    assert.equal(issued.maxAgeSeconds, DEVICE_TRUST_MS / 1000);
    const device = cookies.deviceOf(EMAIL, issued.value, T0);
    assert.ok(device);
    assert.notEqual(
      cookies.deviceOf(EMAIL, cookies.issue(EMAIL, T0).value, T0),
      device,
      'each sign-in, a new device id',
    );
    assert.equal(cookies.deviceOf('other@acme.com', issued.value, T0), null, 'not for another address');
    assert.equal(
      cookies.deviceOf(EMAIL, issued.value, new Date(T0.getTime() + DEVICE_TRUST_MS)),
      null,
      'expired',
    );
    assert.equal(new DeviceCookies(randomBytes(32)).deviceOf(EMAIL, issued.value, T0), null, 'another key');
  });

  test('refuse anything altered, cut short or missing', () => {
    const { value } = cookies.issue(EMAIL, T0);
    for (let index = 0; index < value.length; index += 7) {
      const altered = value.slice(0, index) + (value[index] === 'A' ? 'B' : 'A') + value.slice(index + 1);
      assert.equal(cookies.deviceOf(EMAIL, altered, T0), null, `altered at ${index}`);
    }
    for (const bad of [undefined, '', value.slice(0, -1), `${value}A`, '!'.repeat(72)])
      assert.equal(cookies.deviceOf(EMAIL, bad, T0), null);
  });
});

describe('TOTP lockouts per device', () => {
  test('guesses from unknown devices lock out unknown devices only: a known device still signs in', async () => {
    const p = portal();
    const known = p.totp.trustDevice(EMAIL).value;
    const wrong = await p.wrong();
    const burst = await Promise.all(Array.from({ length: 12 }, () => p.totp.signIn(EMAIL, wrong)));
    assert.equal(
      burst.filter((outcome) => refusal(outcome)?.lockedUntil === null).length,
      POLICY.maxFailures - 1,
    );
    const lockStarts = burst.filter((outcome) => refusal(outcome)?.lockedNow);
    assert.equal(lockStarts.length, 1, 'the lockout starts once');
    assert.deepEqual(refusal(lockStarts[0]!)?.lockedNow, [{ clientId: 'acme', email: EMAIL }]);

    const stranger = refusal(await p.totp.signIn(EMAIL, await p.code(), 'not-a-device-cookie'));
    assert.equal(stranger?.device, 'unknown');
    assert.ok(stranger?.lockedUntil, 'the right code from an unknown device is refused');
    const admin = await p.totp.signIn(EMAIL, await p.code(), known);
    assert.equal(admin.ok, true, 'the admin’s own browser signs in');
  });

  test('a known device has a limit of its own: its lockout leaves other devices alone', async () => {
    const p = portal();
    const stolen = p.totp.trustDevice(EMAIL).value;
    const other = p.totp.trustDevice(EMAIL).value;
    const wrong = await p.wrong();
    for (let attempt = 0; attempt < POLICY.maxFailures; attempt += 1)
      await p.totp.signIn(EMAIL, wrong, stolen);
    const locked = refusal(await p.totp.signIn(EMAIL, await p.code(), stolen));
    assert.equal(locked?.device, 'known');
    assert.ok(locked?.lockedUntil);
    assert.equal((await p.totp.signIn(EMAIL, await p.code(), other)).ok, true, 'another known device');
    p.advance(30_000);
    assert.equal(
      (await p.totp.signIn(EMAIL, await p.code())).ok,
      true,
      'unknown devices were not counted against',
    );
    p.advance(POLICY.windowMs);
    assert.equal((await p.totp.signIn(EMAIL, await p.code(), stolen)).ok, true, 'the device’s lock ends');
  });
});

describe('the day’s budget of failed codes', () => {
  test('guesses paced to the lockout period stop at the day’s budget; the admin’s own browser still signs in', async () => {
    const p = portal();
    const known = p.totp.trustDevice(EMAIL).value;
    const lockEnds: Date[] = [];
    for (let period = 0; period < 4; period += 1) {
      for (let attempt = 0; attempt < POLICY.maxFailures; attempt += 1) {
        const outcome = refusal(await p.totp.signIn(EMAIL, await p.wrong()));
        if (outcome?.lockedNow) lockEnds.push(outcome.lockedUntil!);
      }
      p.advance(POLICY.windowMs);
    }
    assert.equal(lockEnds.length, 4, 'each period’s limit starts a lockout, and says so once');
    assert.ok(
      lockEnds[3]!.getTime() - lockEnds[2]!.getTime() >= 86_400_000 - 2 * POLICY.windowMs,
      'the fourth lockout lasts a day',
    );
    const stranger = refusal(await p.totp.signIn(EMAIL, await p.code()));
    assert.ok(stranger?.lockedUntil, 'the right code from an unknown device is refused after the period');
    assert.match(
      lockoutMessage(stranger.device, stranger.lockedUntil, T0),
      /try again at 2026-05-05 /,
      'the page names the day',
    );
    assert.equal((await p.totp.signIn(EMAIL, await p.code(), known)).ok, true, 'a known device is not counted against');
    p.advance(86_400_000);
    assert.equal((await p.totp.signIn(EMAIL, await p.code())).ok, true, 'a day later, codes work again');
  });
});

describe('the lockout message', () => {
  test('says when to try again, rounded up to the minute, with the date when not today', () => {
    assert.equal(tryAgainAt(new Date('2026-05-04T10:14:30.000Z'), T0), '10:15 UTC');
    assert.equal(tryAgainAt(new Date('2026-05-04T10:15:00.000Z'), T0), '10:15 UTC');
    assert.equal(tryAgainAt(new Date('2026-05-04T23:59:30.000Z'), T0), '2026-05-05 00:00 UTC');
    const until = new Date('2026-05-04T10:15:00.000Z');
    assert.equal(
      lockoutMessage('known', until, T0),
      'Too many attempts from this device: try again at 10:15 UTC, or use your passkey.',
    );
    assert.match(
      lockoutMessage('unknown', until, T0),
      /A browser you have signed in with before can still use your codes\.$/,
    );
  });
});

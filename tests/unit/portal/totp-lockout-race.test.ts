// The portal's TOTP lockout against guesses sent all at once: each attempt reads the lockout, checks the
// code, then counts the failure, so attempts running together all passed the first step and the lockout
// stopped nothing of a burst. Attempts for one address now run one at a time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { generate, generateSecret } from 'otplib';
import type { LockoutPolicy } from '../../../orchestrator/src/ports/portal-store.ts';
import { OneAtATime } from '../../../orchestrator/src/services/one-at-a-time.ts';
import { TotpFactor } from '../../../orchestrator/src/portal/identity/totp.ts';
import { confirmedTotpCredential, memoryTotpStore } from './memory-totp-store.ts';

const EMAIL = 'admin@acme.com';
const POLICY: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000 };

describe('TOTP sign-in under a burst of guesses', () => {
  test('a right code sent along with a burst of wrong ones is refused once the wrong ones lock the address', async () => {
    const key = randomBytes(32);
    const secret = generateSecret({ length: 20 });
    const credential = confirmedTotpCredential({ key, secret, email: EMAIL, createdAt: new Date() });
    const now = new Date();
    const totp = new TotpFactor({
      store: memoryTotpStore(credential),
      clock: { now: () => now },
      sealingKey: key,
      lockout: POLICY,
    });
    const right = await generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    // What an attacker's burst looks like: many guesses in flight at once, the lucky one among the last.
    const burst = [...Array.from({ length: 20 }, () => wrong), right];
    const outcomes = await Promise.all(burst.map((code) => totp.signIn(EMAIL, code)));
    assert.equal(outcomes.filter((outcome) => outcome.ok).length, 0, 'the lockout holds against guesses sent together');
    const refusedUnlocked = outcomes.filter((outcome) => !outcome.ok && outcome.lockedUntil === null).length;
    assert.equal(refusedUnlocked, POLICY.maxFailures - 1, 'only the guesses before the lockout were checked');
  });

  test('attempts for other addresses are not held up, and nothing is kept once they are done', async () => {
    const serial = new OneAtATime();
    const order: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = serial.run('a', async () => {
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('a1');
    });
    const second = serial.run('a', async () => void order.push('a2'));
    await serial.run('b', async () => void order.push('b1'));
    assert.deepEqual(order, ['b1'], 'b runs while a waits');
    releaseFirst();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['b1', 'a1', 'a2']);
    await assert.rejects(serial.run('a', async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await serial.run('a', async () => 'after a failure'), 'after a failure');
    await yieldToIo();
    assert.equal(serial.busyKeys, 0);
  });
});

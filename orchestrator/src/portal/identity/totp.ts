import { generateSecret, generateURI } from 'otplib';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.ts';
import type { AdminRef, LockoutPolicy, PortalStore, StoredCredential } from '../../ports/portal-store.ts';
import { seal, unseal } from '../crypto/sealed-box.ts';
import { acceptedTotpStep } from '../crypto/totp-code.ts';
import { OneAtATime } from '../../services/one-at-a-time.ts';
import { DeviceCookies, deviceCookieKey, type IssuedDeviceCookie } from './device-cookies.ts';

const purposeOf = (admin: AdminRef) => `totp:${admin.clientId}:${admin.email}`;

const DAY_MS = 86_400_000;
/** A day's budget of failed codes per address and device, as so many lockout periods' worth. */
const PERIODS_PER_DAY_BUDGET = 4;

/** The counts one code attempt is checked against and counted in: the lockout period's and the day's. */
interface Subjects {
  period: string;
  day: string;
}

/** Whose failures a code attempt counted against: the browser's own (a known device), or all unknown ones. */
export type DeviceKind = 'known' | 'unknown';

export type CodeSignIn =
  | { ok: true; admin: AdminRef }
  | {
      ok: false;
      device: DeviceKind;
      /** When codes from this device are accepted again; null while under the limit. */
      lockedUntil: Date | null;
      /** This attempt reached the limit (the lockout starts now): the admins of the address, for their trail. */
      lockedNow: AdminRef[] | null;
    };

/**
 * TOTP (otplib, RFC 6238: SHA-1, 6 digits, 30 s) as the fallback to passkeys. Secrets are sealed at rest;
 * a code is accepted once (its time step must be later than the last accepted one). Failed codes count
 * per address and device (OWASP device cookies, device-cookies.ts): a browser that signed in as the
 * address before (a known device) has a count of its own; every other browser shares one count of the
 * address. Past the limit, codes from that device (or from every unknown device) are refused for the
 * lockout period, the right one included. So someone who knows an address can lock out unknown devices,
 * never the admin's own browser; and passkeys are unaffected by any lockout.
 *
 * On top, each count has a day's budget (four periods' worth of failures within a day, then a day's
 * lockout): without it, guesses spread over many addresses and paced to the lockout period could go on
 * at the period's limit for ever (480 a day at 5 per 15 minutes).
 */
export class TotpFactor {
  private readonly store: PortalStore;
  private readonly clock: Clock;
  private readonly sealingKey: Buffer;
  private readonly lockout: LockoutPolicy;
  private readonly attempts = new OneAtATime();
  private readonly devices: DeviceCookies;
  private readonly onRefused: () => void;

  constructor(options: {
    store: PortalStore;
    clock: Clock;
    sealingKey: Buffer;
    lockout: LockoutPolicy;
    /** Signs device cookies; by default derived from `sealingKey` for this job alone. */
    deviceKey?: Buffer;
    /** Called on each refused code: at sign-in, or the first code of an enrolment (fleet_api_auth_failures_total). */
    onRefused?: () => void;
  }) {
    this.onRefused = options.onRefused ?? (() => undefined);
    this.store = options.store;
    this.clock = options.clock;
    this.sealingKey = options.sealingKey;
    this.lockout = options.lockout;
    this.devices = new DeviceCookies(options.deviceKey ?? deviceCookieKey(options.sealingKey));
  }

  /** A device cookie for the browser that just signed in as `email` (by passkey or code): it is known from now on. */
  trustDevice(email: string): IssuedDeviceCookie {
    return this.devices.issue(email, this.clock.now());
  }

  /** The secret being set up under this enrolment (made when `create` and none is): for the admin's app. */
  async pendingSetup(
    admin: AdminRef,
    enrolmentHash: string,
    issuer: string,
    create: boolean,
  ): Promise<{ secret: string; uri: string } | null> {
    const pending = (await this.store.credentials.listCredentials(admin)).find(
      (credential) =>
        credential.kind === 'totp' && !credential.confirmed && credential.enrolmentHash === enrolmentHash,
    );
    let secret: string;
    if (pending) {
      secret = unseal(this.sealingKey, pending.sealed, purposeOf(admin)).toString('utf8');
    } else if (!create) {
      return null;
    } else {
      secret = generateSecret({ length: 20 });
      await this.store.credentials.addCredential({
        id: randomUUID(),
        clientId: admin.clientId,
        email: admin.email,
        kind: 'totp',
        lookupHash: null,
        sealed: seal(this.sealingKey, secret, purposeOf(admin)),
        confirmed: false,
        enrolmentHash,
        createdAt: this.clock.now(),
      });
    }
    return { secret, uri: generateURI({ issuer, label: `${admin.email} (${admin.clientId})`, secret }) };
  }

  /**
   * Checks the pending secret with a first code from the app (the accepted time step is recorded on it); it
   * signs in once the enrolment finishes (enrolment.ts), not before.
   */
  async confirm(admin: AdminRef, enrolmentHash: string, code: string): Promise<boolean> {
    const pending = (await this.store.credentials.listCredentials(admin)).find(
      (credential) =>
        credential.kind === 'totp' && !credential.confirmed && credential.enrolmentHash === enrolmentHash,
    );
    const accepted = pending !== undefined && (await this.accept(pending, code));
    if (!accepted) this.onRefused();
    return accepted;
  }

  /**
   * A code sign-in from the browser holding `deviceCookie` (if any). Attempts counted together (one known
   * device, or all unknown devices of an address) run one at a time, so that guesses sent together cannot
   * outrun the lockout.
   */
  async signIn(email: string, code: string, deviceCookie?: string): Promise<CodeSignIn> {
    const device = this.devices.deviceOf(email, deviceCookie, this.clock.now());
    // Unknown devices keep the address's subject of earlier releases, so a lockout in force still holds.
    const period = device === null ? `totp:${email}` : `totp-device:${device}:${email}`;
    const kind: DeviceKind = device === null ? 'unknown' : 'known';
    const subjects = { period, day: `totp-day:${period}` };
    const outcome = await this.attempts.run(period, () => this.attemptSignIn(email, subjects, kind, code));
    if (!outcome.ok) this.onRefused();
    return outcome;
  }

  private async attemptSignIn(
    email: string,
    subjects: Subjects,
    device: DeviceKind,
    code: string,
  ): Promise<CodeSignIn> {
    const now = this.clock.now();
    const locked = latest(
      await this.store.throttle.lockedUntil(subjects.period, now),
      await this.store.throttle.lockedUntil(subjects.day, now),
    );
    if (locked) return { ok: false, device, lockedUntil: locked, lockedNow: null };
    const credentials = await this.store.credentials.listTotpByEmail(email);
    for (const credential of credentials) {
      if (await this.accept(credential, code)) {
        await this.store.throttle.clearFailures(subjects.period);
        await this.store.throttle.clearFailures(subjects.day);
        return { ok: true, admin: { clientId: credential.clientId, email: credential.email } };
      }
    }
    const lockedUntil = latest(
      await this.store.throttle.recordFailure(subjects.period, now, this.lockout),
      await this.store.throttle.recordFailure(subjects.day, now, this.dayBudget()),
    );
    const admins = credentials.map((credential) => ({
      clientId: credential.clientId,
      email: credential.email,
    }));
    return { ok: false, device, lockedUntil, lockedNow: lockedUntil ? admins : null };
  }

  private dayBudget(): LockoutPolicy {
    return {
      maxFailures: this.lockout.maxFailures * PERIODS_PER_DAY_BUDGET,
      windowMs: Math.max(DAY_MS, this.lockout.windowMs),
    };
  }

  private async accept(credential: StoredCredential, code: string): Promise<boolean> {
    const admin = { clientId: credential.clientId, email: credential.email };
    const secret = unseal(this.sealingKey, credential.sealed, purposeOf(admin)).toString('utf8');
    const now = this.clock.now();
    const step = await acceptedTotpStep(secret, code, now);
    if (step === null) return false;
    return this.store.credentials.recordUse(credential.id, { at: now, timeStep: step });
  }
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

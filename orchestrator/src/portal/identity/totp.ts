import { generateSecret, generateURI } from 'otplib';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.ts';
import type { AdminRef, LockoutPolicy, PortalStore, StoredCredential } from '../../ports/portal-store.ts';
import { seal, unseal } from '../crypto/sealed-box.ts';
import { acceptedTotpStep } from '../crypto/totp-code.ts';
import { OneAtATime } from '../../services/one-at-a-time.ts';

const purposeOf = (admin: AdminRef) => `totp:${admin.clientId}:${admin.email}`;

export type CodeSignIn = { ok: true; admin: AdminRef } | { ok: false; lockedUntil: Date | null };

/**
 * TOTP (otplib, RFC 6238: SHA-1, 6 digits, 30 s) as the fallback to passkeys. Secrets are sealed at rest;
 * a code is accepted once (its time step must be later than the last accepted one); failed codes count
 * per address, and past the limit that address's codes are refused for the lockout period, the right one
 * included. Passkeys are unaffected by a lockout, so guessing cannot lock an admin out altogether.
 */
export class TotpFactor {
  private readonly store: PortalStore;
  private readonly clock: Clock;
  private readonly sealingKey: Buffer;
  private readonly lockout: LockoutPolicy;
  private readonly attempts = new OneAtATime();

  constructor(options: { store: PortalStore; clock: Clock; sealingKey: Buffer; lockout: LockoutPolicy }) {
    this.store = options.store;
    this.clock = options.clock;
    this.sealingKey = options.sealingKey;
    this.lockout = options.lockout;
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

  /** Confirms the pending secret with a first code from the app. */
  async confirm(admin: AdminRef, enrolmentHash: string, code: string): Promise<boolean> {
    const pending = (await this.store.credentials.listCredentials(admin)).find(
      (credential) =>
        credential.kind === 'totp' && !credential.confirmed && credential.enrolmentHash === enrolmentHash,
    );
    if (!pending || !(await this.accept(pending, code))) return false;
    await this.store.credentials.confirmCredential(pending.id);
    return true;
  }

  /** Attempts for one address run one at a time, so that guesses sent together cannot outrun the lockout. */
  async signIn(email: string, code: string): Promise<CodeSignIn> {
    const subject = `totp:${email}`;
    return this.attempts.run(subject, () => this.attemptSignIn(email, subject, code));
  }

  private async attemptSignIn(email: string, subject: string, code: string): Promise<CodeSignIn> {
    const now = this.clock.now();
    const locked = await this.store.throttle.lockedUntil(subject, now);
    if (locked) return { ok: false, lockedUntil: locked };
    for (const credential of await this.store.credentials.listTotpByEmail(email)) {
      if (await this.accept(credential, code)) {
        await this.store.throttle.clearFailures(subject);
        return { ok: true, admin: { clientId: credential.clientId, email: credential.email } };
      }
    }
    return { ok: false, lockedUntil: await this.store.throttle.recordFailure(subject, now, this.lockout) };
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

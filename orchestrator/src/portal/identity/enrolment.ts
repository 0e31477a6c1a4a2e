import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Clock } from '../../ports/clock.ts';
import type { AdminRef, PortalStore, StoredCredential } from '../../ports/portal-store.ts';
import type { ClientGateway } from '../client-gateway.ts';
import { newToken, tokenHash } from '../crypto/tokens.ts';

const TOKEN_RULE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Single-use enrolment links for the admins in a client's config: 24 h, stored hashed. Opening the link
 * (GET) changes nothing; starting the set-up (POST) uses it. What is set up under it signs in only once
 * the admin finishes, and finishing replaces whatever credentials the admin had before, so a re-enrolment
 * after a lost phone shuts the old phone out, and a set-up left unfinished leaves no working factor.
 */
export class Enrolment {
  private readonly store: PortalStore;
  private readonly gateway: ClientGateway;
  private readonly clock: Clock;
  private readonly ttlMs: number;

  constructor(options: { store: PortalStore; gateway: ClientGateway; clock: Clock; ttlMs: number }) {
    this.store = options.store;
    this.gateway = options.gateway;
    this.clock = options.clock;
    this.ttlMs = options.ttlMs;
  }

  /** A new link token for an admin listed in the client's config. */
  async issue(
    clientId: string,
    rawEmail: string,
  ): Promise<{ token: string; expiresAt: Date; admin: AdminRef }> {
    const email = rawEmail.trim().toLowerCase();
    if (!(await this.gateway.admins(clientId)).includes(email)) {
      throw new FleetError(
        'not_found',
        `${email} is not an admin of ${clientId} (the client config's admins)`,
      );
    }
    const token = newToken();
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await this.store.enrolments.createEnrolment({
      tokenHash: tokenHash(token),
      clientId,
      email,
      createdAt: now,
      expiresAt,
    });
    return { token, expiresAt, admin: { clientId, email } };
  }

  /** Who an unused link is for, without using it; null for an unknown, used or expired link. */
  async peek(token: string): Promise<(AdminRef & { expiresAt: Date }) | null> {
    if (!TOKEN_RULE.test(token)) return null;
    const open = await this.store.enrolments.peekEnrolment(tokenHash(token), this.clock.now());
    return open && (await this.stillAdmin(open)) ? open : null;
  }

  /** Uses the link: the admin and the enrolment's hash, once. */
  async consume(token: string): Promise<{ admin: AdminRef; enrolmentHash: string } | null> {
    if (!TOKEN_RULE.test(token)) return null;
    const enrolmentHash = tokenHash(token);
    const admin = await this.store.enrolments.consumeEnrolment(enrolmentHash, this.clock.now());
    return admin && (await this.stillAdmin(admin)) ? { admin, enrolmentHash } : null;
  }

  /** What the admin has set up under this enrolment so far. */
  async progress(admin: AdminRef, enrolmentHash: string): Promise<{ passkeys: number; totp: boolean }> {
    const mine = await this.setUp(admin, enrolmentHash);
    return {
      passkeys: mine.filter((credential) => credential.kind === 'passkey').length,
      totp: mine.some((credential) => credential.kind === 'totp'),
    };
  }

  /**
   * Ends the enrolment: false until a passkey or an authenticator app is set up. Only now do its credentials
   * sign in, and every other credential of the admin (older enrolments, an app never checked) goes.
   */
  async finish(admin: AdminRef, enrolmentHash: string): Promise<boolean> {
    if (!(await this.stillAdmin(admin)))
      throw new FleetError('not_found', `${admin.email} is no longer an admin of ${admin.clientId}`);
    const mine = await this.setUp(admin, enrolmentHash);
    if (mine.length === 0) return false;
    for (const credential of mine)
      if (!credential.confirmed) await this.store.credentials.confirmCredential(credential.id);
    await this.store.credentials.replaceCredentials(admin, enrolmentHash);
    await this.store.sessions.endSessions(admin);
    return true;
  }

  /**
   * The credentials set up under the enrolment: its passkeys (verified when registered) and its app once a
   * first code was accepted (an accepted time step), or anything already confirmed.
   */
  private async setUp(admin: AdminRef, enrolmentHash: string): Promise<StoredCredential[]> {
    return (await this.store.credentials.listCredentials(admin)).filter(
      (credential) =>
        credential.enrolmentHash === enrolmentHash &&
        (credential.confirmed || credential.kind === 'passkey' || credential.lastTimeStep !== null),
    );
  }

  private async stillAdmin(admin: AdminRef): Promise<boolean> {
    return (await this.gateway.admins(admin.clientId)).includes(admin.email);
  }
}

import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Clock } from '../../ports/clock.ts';
import type { AdminRef, PortalStore, StoredCredential } from '../../ports/portal-store.ts';
import type { ClientGateway } from '../client-gateway.ts';
import { newToken, tokenHash } from '../crypto/tokens.ts';
import { PRE_SESSION_MAX_MS } from './sessions.ts';

const TOKEN_RULE = /^[A-Za-z0-9_-]{43}$/;
/** Passkeys one enrolment can hold: more than anyone sets up at once, and a bound on what a link holder stores. */
export const MAX_PASSKEYS_PER_ENROLMENT = 10;
/** Keeps no credential when passed as the enrolment to keep: no enrolment token hashes to it. */
const NO_ENROLMENT = '';

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
  private readonly onRefused: () => void;

  constructor(options: {
    store: PortalStore;
    gateway: ClientGateway;
    clock: Clock;
    ttlMs: number;
    /** Called when a set-up is started with an unknown, used or expired link (fleet_api_auth_failures_total). */
    onRefused?: () => void;
  }) {
    this.store = options.store;
    this.gateway = options.gateway;
    this.clock = options.clock;
    this.ttlMs = options.ttlMs;
    this.onRefused = options.onRefused ?? (() => undefined);
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
    await this.sweepAdmin({ clientId, email });
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
    const used = await this.use(token);
    if (used === null) this.onRefused();
    return used;
  }

  private async use(token: string): Promise<{ admin: AdminRef; enrolmentHash: string } | null> {
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
   * Removes what enrolments that can no longer finish left behind (a passkey or an app set up, then the page
   * left): credentials never confirmed, made longer ago than an enrolling session can last. Runs with the
   * portal's housekeeping and when a new link is issued; returns how many credentials went.
   */
  async sweepUnfinished(): Promise<number> {
    let removed = 0;
    for (const admin of await this.store.knownAdmins()) removed += await this.sweepAdmin(admin);
    return removed;
  }

  /**
   * The store removes credentials only by keeping one enrolment's confirmed ones (what a finish leaves), so an
   * admin is left alone while an enrolment of theirs may still be in progress (an unconfirmed credential
   * recent enough), or when their confirmed credentials come from more than one enrolment (an older release).
   */
  private async sweepAdmin(admin: AdminRef): Promise<number> {
    const cutoff = this.clock.now().getTime() - PRE_SESSION_MAX_MS;
    const credentials = await this.store.credentials.listCredentials(admin);
    const unfinished = credentials.filter((credential) => !credential.confirmed);
    if (unfinished.length === 0 || unfinished.some((credential) => Date.parse(credential.createdAt) > cutoff))
      return 0;
    const finished = new Set(
      credentials.filter((credential) => credential.confirmed).map((credential) => credential.enrolmentHash),
    );
    if (finished.size > 1) return 0;
    await this.store.credentials.replaceCredentials(admin, [...finished][0] ?? NO_ENROLMENT);
    return unfinished.length;
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

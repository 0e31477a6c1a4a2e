import type { Clock } from '../../ports/clock.ts';
import type { AdminRef, SessionStage, SessionStore, StoredSession } from '../../ports/portal-store.ts';
import { hmacBase64url, hmacMatches, newToken, tokenHash } from '../crypto/tokens.ts';

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

/** A session as a request sees it: the stored record and the cookie token it came from. */
export interface LiveSession {
  token: string;
  record: StoredSession;
}

/**
 * Enrolling and anonymous sessions are short: they end after the idle time, or this long after they began,
 * whichever is sooner. So an enrolment can be finished only this long after its link was used.
 */
export const PRE_SESSION_MAX_MS = 30 * 60_000;

/**
 * Server-side sessions. The cookie carries a random token; the store keeps only its sha256. A session
 * ends after `idleMs` without a request or `absoluteMs` after it began, whichever comes first. Each
 * session's CSRF token is an HMAC of its token under the portal's CSRF key: bound to the session,
 * checked on every state change, and never stored.
 */
export class SessionManager {
  private readonly store: SessionStore;
  private readonly clock: Clock;
  private readonly csrfKey: Buffer;
  private readonly policy: SessionPolicy;

  constructor(options: { store: SessionStore; clock: Clock; csrfKey: Buffer; policy: SessionPolicy }) {
    this.store = options.store;
    this.clock = options.clock;
    this.csrfKey = options.csrfKey;
    this.policy = options.policy;
  }

  async start(
    stage: SessionStage,
    admin: AdminRef | null,
    enrolmentHash: string | null = null,
  ): Promise<LiveSession> {
    const token = newToken();
    const now = this.clock.now();
    const lifetime =
      stage === 'active' ? this.policy.absoluteMs : Math.min(this.policy.idleMs, PRE_SESSION_MAX_MS);
    const expiresAt = new Date(now.getTime() + lifetime);
    const idHash = tokenHash(token);
    await this.store.createSession({
      idHash,
      stage,
      clientId: admin?.clientId ?? null,
      email: admin?.email ?? null,
      enrolmentHash,
      now,
      expiresAt,
    });
    return {
      token,
      record: {
        idHash,
        stage,
        clientId: admin?.clientId ?? null,
        email: admin?.email ?? null,
        enrolmentHash,
        createdAt: now.toISOString(),
        lastSeenAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
      },
    };
  }

  /** The live session of a cookie token, refreshed; null (and the session deleted) once idle or past its end. */
  async resolve(token: string | undefined): Promise<LiveSession | null> {
    if (!token || token.length > 100) return null;
    const idHash = tokenHash(token);
    const record = await this.store.getSession(idHash);
    if (!record) return null;
    const now = this.clock.now().getTime();
    if (now >= Date.parse(record.expiresAt) || now - Date.parse(record.lastSeenAt) >= this.policy.idleMs) {
      await this.store.deleteSession(idHash);
      return null;
    }
    await this.store.touchSession(idHash, this.clock.now());
    return { token, record };
  }

  async end(session: LiveSession): Promise<void> {
    await this.store.deleteSession(session.record.idHash);
  }

  /** Ends every session of the admin (signed in, or enrolling), wherever it is; returns how many. */
  async endEverywhere(admin: AdminRef): Promise<number> {
    return this.store.endSessions(admin);
  }

  csrfToken(session: LiveSession): string {
    return hmacBase64url(this.csrfKey, `csrf:${session.token}`);
  }

  csrfValid(session: LiveSession, presented: unknown): boolean {
    return (
      typeof presented === 'string' &&
      presented.length > 0 &&
      presented.length < 200 &&
      hmacMatches(this.csrfKey, `csrf:${session.token}`, presented)
    );
  }
}

import type {
  AdminRef,
  EnrolmentStore,
  LinkNonceStore,
  LockoutPolicy,
  LoginThrottleStore,
  NewEnrolment,
  PortalStore,
} from '../../ports/portal-store.ts';
import { nextFailureState } from '../../portal/identity/lockout.ts';
import type { SqlExecutor } from './sql-executor.ts';
import { SqlPortalCredentials } from './sql-portal-credentials.ts';
import { SqlPortalSessions, isoOf } from './sql-portal-sessions.ts';

class SqlEnrolments implements EnrolmentStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async createEnrolment(enrolment: NewEnrolment): Promise<void> {
    await this.sql.query(
      'INSERT INTO portal_enrolments (token_hash, client_id, admin_email, created_at, expires_at) VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)',
      [
        enrolment.tokenHash,
        enrolment.clientId,
        enrolment.email,
        enrolment.createdAt.toISOString(),
        enrolment.expiresAt.toISOString(),
      ],
    );
  }

  async peekEnrolment(tokenHash: string, now: Date): Promise<(AdminRef & { expiresAt: Date }) | null> {
    const rows = await this.sql.query<{ client_id: string; admin_email: string; expires_at: Date | string }>(
      'SELECT client_id, admin_email, expires_at FROM portal_enrolments WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2::timestamptz',
      [tokenHash, now.toISOString()],
    );
    const row = rows[0];
    return row
      ? { clientId: row.client_id, email: row.admin_email, expiresAt: new Date(isoOf(row.expires_at)) }
      : null;
  }

  async consumeEnrolment(tokenHash: string, now: Date): Promise<AdminRef | null> {
    const rows = await this.sql.query<{ client_id: string; admin_email: string }>(
      `UPDATE portal_enrolments SET used_at = $2::timestamptz
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2::timestamptz
        RETURNING client_id, admin_email`,
      [tokenHash, now.toISOString()],
    );
    return rows[0] ? { clientId: rows[0].client_id, email: rows[0].admin_email } : null;
  }
}

class SqlLoginThrottle implements LoginThrottleStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async lockedUntil(subject: string, now: Date): Promise<Date | null> {
    const rows = await this.sql.query<{ locked_until: Date | string | null }>(
      'SELECT locked_until FROM portal_login_failures WHERE subject = $1',
      [subject],
    );
    const until = rows[0]?.locked_until;
    if (!until) return null;
    const end = new Date(isoOf(until));
    return end.getTime() > now.getTime() ? end : null;
  }

  async recordFailure(subject: string, now: Date, policy: LockoutPolicy): Promise<Date | null> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query<{
        failures: number;
        window_started_at: Date | string;
        locked_until: Date | string | null;
      }>(
        'SELECT failures, window_started_at, locked_until FROM portal_login_failures WHERE subject = $1 FOR UPDATE',
        [subject],
      );
      const next = nextFailureState(
        rows[0]
          ? {
              failures: Number(rows[0].failures),
              windowStartedAt: new Date(isoOf(rows[0].window_started_at)),
              lockedUntil: rows[0].locked_until ? new Date(isoOf(rows[0].locked_until)) : null,
            }
          : null,
        now,
        policy,
      );
      await tx.query(
        `INSERT INTO portal_login_failures (subject, failures, window_started_at, locked_until) VALUES ($1, $2, $3::timestamptz, $4::timestamptz)
         ON CONFLICT (subject) DO UPDATE SET failures = $2, window_started_at = $3::timestamptz, locked_until = $4::timestamptz`,
        [subject, next.failures, next.windowStartedAt.toISOString(), next.lockedUntil?.toISOString() ?? null],
      );
      return next.lockedUntil;
    });
  }

  async clearFailures(subject: string): Promise<void> {
    await this.sql.query('DELETE FROM portal_login_failures WHERE subject = $1', [subject]);
  }
}

class SqlLinkNonces implements LinkNonceStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async useLinkNonce(nonceHash: string, clientId: string, expiresAt: Date, now: Date): Promise<boolean> {
    const rows = await this.sql.query(
      `INSERT INTO portal_used_links (nonce_hash, client_id, used_at, expires_at) VALUES ($1, $2, $3::timestamptz, $4::timestamptz)
       ON CONFLICT (nonce_hash) DO NOTHING RETURNING nonce_hash`,
      [nonceHash, clientId, now.toISOString(), expiresAt.toISOString()],
    );
    return rows.length === 1;
  }

  async isLinkNonceUsed(nonceHash: string): Promise<boolean> {
    return (
      (await this.sql.query('SELECT 1 FROM portal_used_links WHERE nonce_hash = $1', [nonceHash])).length ===
      1
    );
  }
}

/** The portal's state in the registry database (PostgreSQL or PGlite), tables of migration 4. */
export class SqlPortalStore implements PortalStore {
  readonly enrolments: EnrolmentStore;
  readonly credentials: SqlPortalCredentials;
  readonly sessions: SqlPortalSessions;
  readonly throttle: LoginThrottleStore;
  readonly links: LinkNonceStore;
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
    this.enrolments = new SqlEnrolments(sql);
    this.credentials = new SqlPortalCredentials(sql);
    this.sessions = new SqlPortalSessions(sql);
    this.throttle = new SqlLoginThrottle(sql);
    this.links = new SqlLinkNonces(sql);
  }

  async knownAdmins(): Promise<AdminRef[]> {
    const rows = await this.sql.query<{ client_id: string; admin_email: string }>(
      `SELECT client_id, admin_email FROM portal_credentials
       UNION SELECT client_id, admin_email FROM portal_sessions WHERE client_id IS NOT NULL AND admin_email IS NOT NULL
       UNION SELECT client_id, admin_email FROM portal_enrolments WHERE used_at IS NULL
       ORDER BY client_id, admin_email`,
    );
    return rows.map((row) => ({ clientId: row.client_id, email: row.admin_email }));
  }

  async forgetAdmin(admin: AdminRef): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const parameters = [admin.clientId, admin.email];
      await tx.query('DELETE FROM portal_sessions WHERE client_id = $1 AND admin_email = $2', parameters);
      await tx.query('DELETE FROM portal_credentials WHERE client_id = $1 AND admin_email = $2', parameters);
      await tx.query('DELETE FROM portal_enrolments WHERE client_id = $1 AND admin_email = $2', parameters);
    });
  }

  async purgeExpired(now: Date): Promise<void> {
    const at = now.toISOString();
    await this.sql.transaction(async (tx) => {
      await tx.query('DELETE FROM portal_sessions WHERE expires_at <= $1::timestamptz', [at]);
      await tx.query('DELETE FROM portal_enrolments WHERE expires_at <= $1::timestamptz', [at]);
      await tx.query('DELETE FROM portal_used_links WHERE expires_at <= $1::timestamptz', [at]);
      await tx.query(
        `DELETE FROM portal_login_failures WHERE (locked_until IS NULL OR locked_until <= $1::timestamptz)
           AND window_started_at <= $1::timestamptz - interval '1 day'`,
        [at],
      );
    });
  }
}

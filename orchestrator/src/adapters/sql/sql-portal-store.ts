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
import { LOOKUP_KEY_PREFIX, SEALED_ADDRESS_PREFIX, type RegistrySealer } from './registry-sealer.ts';
import type { SqlExecutor } from './sql-executor.ts';
import { SqlPortalCredentials } from './sql-portal-credentials.ts';
import { SqlPortalSessions, isoOf } from './sql-portal-sessions.ts';

class SqlEnrolments implements EnrolmentStore {
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.sealer = sealer;
  }

  async createEnrolment(enrolment: NewEnrolment): Promise<void> {
    const admin = this.sealer.sealAddress(enrolment.email);
    await this.sql.transaction(async (tx) => {
      // A new link replaces every unused one of this admin: an older link (an intercepted email, one printed
      // for an operator) would otherwise still open an enrolment, which replaces the admin's credentials.
      await tx.query('DELETE FROM portal_enrolments WHERE client_id = $1 AND admin_email = $2 AND used_at IS NULL', [enrolment.clientId, admin]);
      await tx.query(
        'INSERT INTO portal_enrolments (token_hash, client_id, admin_email, created_at, expires_at) VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)',
        [enrolment.tokenHash, enrolment.clientId, admin, enrolment.createdAt.toISOString(), enrolment.expiresAt.toISOString()],
      );
    });
  }

  async peekEnrolment(tokenHash: string, now: Date): Promise<(AdminRef & { expiresAt: Date }) | null> {
    const rows = await this.sql.query<{ client_id: string; admin_email: string; expires_at: Date | string }>(
      'SELECT client_id, admin_email, expires_at FROM portal_enrolments WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2::timestamptz',
      [tokenHash, now.toISOString()],
    );
    const row = rows[0];
    return row
      ? { clientId: row.client_id, email: this.sealer.openAddress(row.admin_email), expiresAt: new Date(isoOf(row.expires_at)) }
      : null;
  }

  async consumeEnrolment(tokenHash: string, now: Date): Promise<AdminRef | null> {
    const rows = await this.sql.query<{ client_id: string; admin_email: string }>(
      `UPDATE portal_enrolments SET used_at = $2::timestamptz
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2::timestamptz
        RETURNING client_id, admin_email`,
      [tokenHash, now.toISOString()],
    );
    return rows[0] ? { clientId: rows[0].client_id, email: this.sealer.openAddress(rows[0].admin_email) } : null;
  }
}

/** Failed sign-ins by subject (an address typed at sign-in): stored under a one-way lookup key. */
class SqlLoginThrottle implements LoginThrottleStore {
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.sealer = sealer;
  }

  async lockedUntil(subject: string, now: Date): Promise<Date | null> {
    const rows = await this.sql.query<{ locked_until: Date | string | null }>(
      'SELECT locked_until FROM portal_login_failures WHERE subject = $1',
      [this.sealer.lookupKey(subject)],
    );
    const until = rows[0]?.locked_until;
    if (!until) return null;
    const end = new Date(isoOf(until));
    return end.getTime() > now.getTime() ? end : null;
  }

  async recordFailure(typedSubject: string, now: Date, policy: LockoutPolicy): Promise<Date | null> {
    const subject = this.sealer.lookupKey(typedSubject);
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
    await this.sql.query('DELETE FROM portal_login_failures WHERE subject = $1', [this.sealer.lookupKey(subject)]);
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

/** The tables that name an admin by address. */
const ADMIN_ADDRESS_TABLES = ['portal_enrolments', 'portal_credentials', 'portal_sessions'] as const;

/** The tables whose rows belong to one client (by `client_id`): all of them go with the client. */
const CLIENT_TABLES = [...ADMIN_ADDRESS_TABLES, 'portal_used_links'] as const;

/**
 * The portal's state in the registry database (PostgreSQL or PGlite), tables of migration 4. Admins'
 * addresses are sealed by `sealer` (deterministically: rows are still found by address), sign-in subjects
 * kept as one-way lookup keys.
 */
export class SqlPortalStore implements PortalStore {
  readonly enrolments: EnrolmentStore;
  readonly credentials: SqlPortalCredentials;
  readonly sessions: SqlPortalSessions;
  readonly throttle: LoginThrottleStore;
  readonly links: LinkNonceStore;
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.sealer = sealer;
    this.enrolments = new SqlEnrolments(sql, sealer);
    this.credentials = new SqlPortalCredentials(sql, sealer);
    this.sessions = new SqlPortalSessions(sql, sealer);
    this.throttle = new SqlLoginThrottle(sql, sealer);
    this.links = new SqlLinkNonces(sql);
  }

  async knownAdmins(): Promise<AdminRef[]> {
    const rows = await this.sql.query<{ client_id: string; admin_email: string }>(
      `SELECT client_id, admin_email FROM portal_credentials
       UNION SELECT client_id, admin_email FROM portal_sessions WHERE client_id IS NOT NULL AND admin_email IS NOT NULL
       UNION SELECT client_id, admin_email FROM portal_enrolments WHERE used_at IS NULL`,
    );
    return rows
      .map((row) => ({ clientId: row.client_id, email: this.sealer.openAddress(row.admin_email) }))
      .sort((a, b) => a.clientId.localeCompare(b.clientId) || a.email.localeCompare(b.email));
  }

  /**
   * Seals the addresses and sign-in subjects an earlier release wrote in plaintext, then rewrites those
   * tables so that the plaintext leaves the database files. Returns how many rows were sealed.
   */
  async sealPlaintext(): Promise<number> {
    const sealed = await this.sql.transaction(async (tx) => {
      let rows = 0;
      for (const table of ADMIN_ADDRESS_TABLES) {
        const plain = await tx.query<{ admin_email: string }>(
          `SELECT DISTINCT admin_email FROM ${table} WHERE admin_email IS NOT NULL AND NOT starts_with(admin_email, $1)`,
          [SEALED_ADDRESS_PREFIX],
        );
        for (const { admin_email: address } of plain) {
          rows += (await tx.query(`UPDATE ${table} SET admin_email = $2 WHERE admin_email = $1 RETURNING 1`, [address, this.sealer.sealAddress(address)])).length;
        }
      }
      const subjects = await tx.query<{ subject: string }>('SELECT subject FROM portal_login_failures WHERE NOT starts_with(subject, $1)', [LOOKUP_KEY_PREFIX]);
      for (const { subject } of subjects) {
        // A subject already counted under its key keeps that count.
        await tx.query(
          'UPDATE portal_login_failures SET subject = $2 WHERE subject = $1 AND NOT EXISTS (SELECT 1 FROM portal_login_failures WHERE subject = $2)',
          [subject, this.sealer.lookupKey(subject)],
        );
        await tx.query('DELETE FROM portal_login_failures WHERE subject = $1', [subject]);
      }
      return rows + subjects.length;
    });
    if (sealed > 0) await this.sql.reclaim([...ADMIN_ADDRESS_TABLES, 'portal_login_failures']);
    return sealed;
  }

  async forgetAdmin(admin: AdminRef): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const parameters = [admin.clientId, this.sealer.sealAddress(admin.email)];
      await tx.query('DELETE FROM portal_sessions WHERE client_id = $1 AND admin_email = $2', parameters);
      await tx.query('DELETE FROM portal_credentials WHERE client_id = $1 AND admin_email = $2', parameters);
      await tx.query('DELETE FROM portal_enrolments WHERE client_id = $1 AND admin_email = $2', parameters);
    });
  }

  async forgetClient(clientId: string): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const admins = await tx.query<{ admin_email: string }>(
        `SELECT admin_email FROM portal_credentials WHERE client_id = $1
         UNION SELECT admin_email FROM portal_sessions WHERE client_id = $1 AND admin_email IS NOT NULL
         UNION SELECT admin_email FROM portal_enrolments WHERE client_id = $1`,
        [clientId],
      );
      for (const table of CLIENT_TABLES) await tx.query(`DELETE FROM ${table} WHERE client_id = $1`, [clientId]);
      return admins.length;
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

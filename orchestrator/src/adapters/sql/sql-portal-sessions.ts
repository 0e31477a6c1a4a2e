import type {
  AdminRef,
  NewSession,
  SessionStage,
  SessionStore,
  StoredSession,
} from '../../ports/portal-store.ts';
import type { RegistrySealer } from './registry-sealer.ts';
import type { SqlExecutor } from './sql-executor.ts';

type SessionRow = {
  id_hash: string;
  stage: string;
  client_id: string | null;
  admin_email: string | null;
  enrolment_hash: string | null;
  created_at: Date | string;
  last_seen_at: Date | string;
  expires_at: Date | string;
};

export function isoOf(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function toSession(row: SessionRow, sealer: RegistrySealer): StoredSession {
  return {
    idHash: row.id_hash,
    stage: row.stage as SessionStage,
    clientId: row.client_id,
    email: row.admin_email === null ? null : sealer.openAddress(row.admin_email),
    enrolmentHash: row.enrolment_hash,
    createdAt: isoOf(row.created_at),
    lastSeenAt: isoOf(row.last_seen_at),
    expiresAt: isoOf(row.expires_at),
  };
}

/** Portal sessions in the registry database, keyed by the sha256 of the session cookie; the admin's address sealed. */
export class SqlPortalSessions implements SessionStore {
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.sealer = sealer;
  }

  async createSession(session: NewSession): Promise<void> {
    await this.sql.query(
      `INSERT INTO portal_sessions (id_hash, stage, client_id, admin_email, enrolment_hash, created_at, last_seen_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz, $7::timestamptz)`,
      [
        session.idHash,
        session.stage,
        session.clientId,
        session.email === null ? null : this.sealer.sealAddress(session.email),
        session.enrolmentHash,
        session.now.toISOString(),
        session.expiresAt.toISOString(),
      ],
    );
  }

  async getSession(idHash: string): Promise<StoredSession | null> {
    const rows = await this.sql.query<SessionRow>(
      'SELECT id_hash, stage, client_id, admin_email, enrolment_hash, created_at, last_seen_at, expires_at FROM portal_sessions WHERE id_hash = $1',
      [idHash],
    );
    return rows[0] ? toSession(rows[0], this.sealer) : null;
  }

  async touchSession(idHash: string, at: Date): Promise<void> {
    await this.sql.query('UPDATE portal_sessions SET last_seen_at = $2::timestamptz WHERE id_hash = $1', [
      idHash,
      at.toISOString(),
    ]);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.sql.query('DELETE FROM portal_sessions WHERE id_hash = $1', [idHash]);
  }

  async endSessions(admin: AdminRef): Promise<number> {
    const rows = await this.sql.query(
      'DELETE FROM portal_sessions WHERE client_id = $1 AND admin_email = $2 RETURNING id_hash',
      [admin.clientId, this.sealer.sealAddress(admin.email)],
    );
    return rows.length;
  }

  async setChallenge(idHash: string, challengeHash: string, expiresAt: Date): Promise<void> {
    await this.sql.query(
      'UPDATE portal_sessions SET challenge_hash = $2, challenge_expires_at = $3::timestamptz WHERE id_hash = $1',
      [idHash, challengeHash, expiresAt.toISOString()],
    );
  }

  async takeChallenge(idHash: string, now: Date): Promise<string | null> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query<{
        challenge_hash: string | null;
        challenge_expires_at: Date | string | null;
      }>('SELECT challenge_hash, challenge_expires_at FROM portal_sessions WHERE id_hash = $1 FOR UPDATE', [
        idHash,
      ]);
      const row = rows[0];
      if (!row?.challenge_hash || !row.challenge_expires_at) return null;
      await tx.query(
        'UPDATE portal_sessions SET challenge_hash = NULL, challenge_expires_at = NULL WHERE id_hash = $1',
        [idHash],
      );
      return new Date(isoOf(row.challenge_expires_at)).getTime() > now.getTime() ? row.challenge_hash : null;
    });
  }
}

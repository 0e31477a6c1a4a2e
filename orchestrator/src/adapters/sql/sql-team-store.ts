import type { MemberStatus, SignInChannel } from '../../domain/team-member.ts';
import { nextFailureState } from '../../portal/identity/lockout.ts';
import type {
  MemberStore,
  NewMember,
  StoredMember,
  StoredTeamSession,
  TeamSessionStore,
  TeamStore,
} from '../../ports/team-store.ts';
import { SEALED_PREFIX, type RegistrySealer } from './registry-sealer.ts';
import type { SqlExecutor } from './sql-executor.ts';
import { isoOf } from './sql-portal-sessions.ts';

type Timestamp = Date | string;

type MemberRow = {
  name: string;
  email: string;
  status: string;
  totp_sealed: string | null;
  last_time_step: number | string | null;
  added_at: Timestamp;
  added_by: string;
  enrolled_at: Timestamp | null;
  last_login_at: Timestamp | null;
};

type SessionRow = {
  token_hash: string;
  member: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  second_factor_at: Timestamp;
};

const MEMBER_COLUMNS =
  'name, email, status, totp_sealed, last_time_step, added_at, added_by, enrolled_at, last_login_at';

function toMember(row: MemberRow, sealer: RegistrySealer): StoredMember {
  return {
    name: row.name,
    email: sealer.openMemberEmail(row.name, row.email),
    status: row.status as MemberStatus,
    totpSealed: row.totp_sealed,
    lastTimeStep: row.last_time_step === null ? null : Number(row.last_time_step),
    addedAt: isoOf(row.added_at),
    addedBy: row.added_by,
    enrolledAt: row.enrolled_at === null ? null : isoOf(row.enrolled_at),
    lastLoginAt: row.last_login_at === null ? null : isoOf(row.last_login_at),
  };
}

function toSession(row: SessionRow): StoredTeamSession {
  return {
    tokenHash: row.token_hash,
    member: row.member,
    createdAt: isoOf(row.created_at),
    lastSeenAt: isoOf(row.last_seen_at),
    expiresAt: isoOf(row.expires_at),
    secondFactorAt: isoOf(row.second_factor_at),
  };
}

/**
 * Team members, enrolment codes and failed sign-ins (per member and channel, migration 9) in the registry
 * database (PostgreSQL or PGlite). A member's address is sealed by `sealer`, bound to their name.
 */
class SqlMemberStore implements MemberStore {
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.sealer = sealer;
  }

  async addMember(
    member: NewMember,
    options: { onlyIfEmpty: boolean },
  ): Promise<'added' | 'exists' | 'not-empty'> {
    return this.sql.transaction(async (tx) => {
      // The bootstrap decides on an empty team: no concurrent add may slip in between the check and the insert.
      await tx.query('LOCK TABLE team_members IN SHARE ROW EXCLUSIVE MODE', []);
      if (options.onlyIfEmpty && (await tx.query('SELECT 1 FROM team_members LIMIT 1', [])).length > 0)
        return 'not-empty';
      const inserted = await tx.query(
        `INSERT INTO team_members (name, email, status, added_at, added_by) VALUES ($1, $2, 'enrolling', $3::timestamptz, $4)
         ON CONFLICT (name) DO NOTHING RETURNING name`,
        [
          member.name,
          this.sealer.sealMemberEmail(member.name, member.email),
          member.addedAt.toISOString(),
          member.addedBy,
        ],
      );
      return inserted.length === 1 ? 'added' : 'exists';
    });
  }

  async getMember(name: string): Promise<StoredMember | null> {
    const [row] = await this.sql.query<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM team_members WHERE name = $1`,
      [name],
    );
    return row ? toMember(row, this.sealer) : null;
  }

  async listMembers(): Promise<StoredMember[]> {
    return (
      await this.sql.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM team_members ORDER BY name`, [])
    ).map((row) => toMember(row, this.sealer));
  }

  async removeMember(name: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      await tx.query('DELETE FROM team_sessions WHERE member = $1', [name]);
      await tx.query('DELETE FROM team_enrolments WHERE member = $1', [name]);
      return (await tx.query('DELETE FROM team_members WHERE name = $1 RETURNING name', [name])).length === 1;
    });
  }

  async removeMemberUnlessLast(name: string): Promise<'removed' | 'absent' | 'last'> {
    return this.sql.transaction(async (tx) => {
      // As addMember's bootstrap: no other removal may count the team between this count and this delete.
      await tx.query('LOCK TABLE team_members IN SHARE ROW EXCLUSIVE MODE', []);
      if ((await tx.query('SELECT 1 FROM team_members WHERE name = $1', [name])).length === 0) return 'absent';
      if ((await tx.query('SELECT 1 FROM team_members WHERE name <> $1 LIMIT 1', [name])).length === 0) return 'last';
      await tx.query('DELETE FROM team_sessions WHERE member = $1', [name]);
      await tx.query('DELETE FROM team_enrolments WHERE member = $1', [name]);
      await tx.query('DELETE FROM team_members WHERE name = $1', [name]);
      return 'removed';
    });
  }

  async createEnrolment(member: string, codeHash: string, expiresAt: Date): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('DELETE FROM team_enrolments WHERE member = $1', [member]);
      await tx.query(
        'INSERT INTO team_enrolments (code_hash, member, expires_at) VALUES ($1, $2, $3::timestamptz)',
        [codeHash, member, expiresAt.toISOString()],
      );
    });
  }

  async consumeEnrolment(member: string, codeHash: string, now: Date): Promise<boolean> {
    const rows = await this.sql.query(
      'UPDATE team_enrolments SET used_at = $2::timestamptz WHERE code_hash = $1 AND member = $3 AND used_at IS NULL AND expires_at > $2::timestamptz RETURNING member',
      [codeHash, now.toISOString(), member],
    );
    return rows.length === 1;
  }

  async setTotpSecret(member: string, sealed: string): Promise<void> {
    await this.sql.query(
      "UPDATE team_members SET totp_sealed = $2, last_time_step = NULL, status = 'enrolling' WHERE name = $1",
      [member, sealed],
    );
  }

  async recordTotpUse(member: string, sealed: string, timeStep: number, at: Date): Promise<boolean> {
    // One conditional UPDATE: two requests replaying the same code cannot both pass, and a code checked
    // against a secret a reissue replaced meanwhile cannot make the member active under the new one.
    const rows = await this.sql.query(
      `UPDATE team_members
          SET last_time_step = $3::bigint, last_login_at = $4::timestamptz, status = 'active',
              enrolled_at = COALESCE(enrolled_at, $4::timestamptz)
        WHERE name = $1 AND totp_sealed = $2 AND (last_time_step IS NULL OR last_time_step < $3::bigint)
        RETURNING name`,
      [member, sealed, timeStep, at.toISOString()],
    );
    return rows.length === 1;
  }

  async lockedUntil(member: string, channel: SignInChannel, now: Date): Promise<Date | null> {
    const [row] = await this.sql.query<{ locked_until: Timestamp | null }>(
      'SELECT locked_until FROM team_login_failures WHERE member = $1 AND channel = $2',
      [member, channel],
    );
    const until = row?.locked_until ? new Date(isoOf(row.locked_until)) : null;
    return until !== null && until.getTime() > now.getTime() ? until : null;
  }

  async recordFailure(
    member: string,
    channel: SignInChannel,
    now: Date,
    policy: { maxFailures: number; windowMs: number },
  ): Promise<Date | null> {
    return this.sql.transaction(async (tx) => {
      // The row exists before it is read (FOR UPDATE), so that two first failures cannot both start a count.
      await tx.query(
        `INSERT INTO team_login_failures (member, channel, failures, window_started_at)
         SELECT name, $2, 0, $3::timestamptz FROM team_members WHERE name = $1
         ON CONFLICT (member, channel) DO NOTHING`,
        [member, channel, now.toISOString()],
      );
      const [row] = await tx.query<{
        failures: number;
        window_started_at: Timestamp;
        locked_until: Timestamp | null;
      }>(
        'SELECT failures, window_started_at, locked_until FROM team_login_failures WHERE member = $1 AND channel = $2 FOR UPDATE',
        [member, channel],
      );
      if (!row) return null;
      const next = nextFailureState(
        {
          failures: Number(row.failures),
          windowStartedAt: new Date(isoOf(row.window_started_at)),
          lockedUntil: row.locked_until ? new Date(isoOf(row.locked_until)) : null,
        },
        now,
        policy,
      );
      await tx.query(
        'UPDATE team_login_failures SET failures = $3, window_started_at = $4::timestamptz, locked_until = $5::timestamptz WHERE member = $1 AND channel = $2',
        [
          member,
          channel,
          next.failures,
          next.windowStartedAt.toISOString(),
          next.lockedUntil?.toISOString() ?? null,
        ],
      );
      return next.lockedUntil;
    });
  }

  async clearFailures(member: string, channel: SignInChannel): Promise<void> {
    await this.sql.query('DELETE FROM team_login_failures WHERE member = $1 AND channel = $2', [
      member,
      channel,
    ]);
  }

  /** Seals the addresses an earlier release wrote in plaintext; returns how many. */
  async sealPlaintext(): Promise<number> {
    return this.sql.transaction(async (tx) => {
      // Runs at every start: only the rows an earlier release wrote are read (none, once they are sealed).
      const rows = await tx.query<{ name: string; email: string }>(
        'SELECT name, email FROM team_members WHERE NOT starts_with(email, $1) FOR UPDATE',
        [SEALED_PREFIX],
      );
      for (const row of rows) {
        await tx.query('UPDATE team_members SET email = $2 WHERE name = $1', [
          row.name,
          this.sealer.sealMemberEmail(row.name, row.email),
        ]);
      }
      return rows.length;
    });
  }
}

/** Sessions of team members on the ops API, by the sha256 of their token. */
class SqlTeamSessionStore implements TeamSessionStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async createSession(session: StoredTeamSession): Promise<void> {
    await this.sql.query(
      `INSERT INTO team_sessions (token_hash, member, created_at, last_seen_at, expires_at, second_factor_at)
       VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5::timestamptz, $6::timestamptz)`,
      [
        session.tokenHash,
        session.member,
        session.createdAt,
        session.lastSeenAt,
        session.expiresAt,
        session.secondFactorAt,
      ],
    );
  }

  async getSession(tokenHash: string): Promise<StoredTeamSession | null> {
    const [row] = await this.sql.query<SessionRow>(
      'SELECT token_hash, member, created_at, last_seen_at, expires_at, second_factor_at FROM team_sessions WHERE token_hash = $1',
      [tokenHash],
    );
    return row ? toSession(row) : null;
  }

  async touchSession(tokenHash: string, at: Date): Promise<void> {
    await this.sql.query('UPDATE team_sessions SET last_seen_at = $2::timestamptz WHERE token_hash = $1', [
      tokenHash,
      at.toISOString(),
    ]);
  }

  async markSecondFactor(tokenHash: string, at: Date): Promise<void> {
    await this.sql.query(
      'UPDATE team_sessions SET second_factor_at = $2::timestamptz, last_seen_at = $2::timestamptz WHERE token_hash = $1',
      [tokenHash, at.toISOString()],
    );
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.sql.query('DELETE FROM team_sessions WHERE token_hash = $1', [tokenHash]);
  }

  async endSessions(member: string): Promise<number> {
    return (
      await this.sql.query('DELETE FROM team_sessions WHERE member = $1 RETURNING token_hash', [member])
    ).length;
  }
}

/**
 * The team's identities in the registry database, tables of migrations 6 and 9. Members' addresses are sealed by
 * `sealer` (the registry key); enrolment codes and session tokens are kept only as hashes.
 */
export class SqlTeamStore implements TeamStore {
  readonly members: MemberStore;
  readonly sessions: TeamSessionStore;
  private readonly sql: SqlExecutor;
  private readonly memberRows: SqlMemberStore;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.memberRows = new SqlMemberStore(sql, sealer);
    this.members = this.memberRows;
    this.sessions = new SqlTeamSessionStore(sql);
  }

  /**
   * Seals the members' addresses an earlier release wrote in plaintext, then rewrites their table so that
   * the plaintext leaves the database files. Returns how many rows were sealed.
   */
  async sealPlaintext(): Promise<number> {
    const sealed = await this.memberRows.sealPlaintext();
    if (sealed > 0) await this.sql.reclaim(['team_members']);
    return sealed;
  }
}

export function sqlTeamStore(sql: SqlExecutor, sealer: RegistrySealer): SqlTeamStore {
  return new SqlTeamStore(sql, sealer);
}

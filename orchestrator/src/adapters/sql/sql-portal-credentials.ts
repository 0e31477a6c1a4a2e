import type {
  AdminRef,
  CredentialKind,
  CredentialStore,
  NewCredential,
  StoredCredential,
} from '../../ports/portal-store.ts';
import type { RegistrySealer } from './registry-sealer.ts';
import type { SqlExecutor } from './sql-executor.ts';
import { isoOf } from './sql-portal-sessions.ts';

type CredentialRow = {
  id: string;
  client_id: string;
  admin_email: string;
  kind: string;
  lookup_hash: string | null;
  sealed: string;
  counter: number | string;
  last_time_step: number | string | null;
  confirmed: boolean;
  enrolment_hash: string;
  created_at: Date | string;
  last_used_at: Date | string | null;
};

const COLUMNS =
  'id, client_id, admin_email, kind, lookup_hash, sealed, counter, last_time_step, confirmed, enrolment_hash, created_at, last_used_at';

function toCredential(row: CredentialRow, sealer: RegistrySealer): StoredCredential {
  return {
    id: row.id,
    clientId: row.client_id,
    email: sealer.openAddress(row.admin_email),
    kind: row.kind as CredentialKind,
    lookupHash: row.lookup_hash,
    sealed: row.sealed,
    counter: Number(row.counter),
    lastTimeStep: row.last_time_step === null ? null : Number(row.last_time_step),
    confirmed: row.confirmed,
    enrolmentHash: row.enrolment_hash,
    createdAt: isoOf(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : isoOf(row.last_used_at),
  };
}

/** Admin credentials (sealed by the portal before they get here) in the registry database; the admin's address sealed here. */
export class SqlPortalCredentials implements CredentialStore {
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.sealer = sealer;
  }

  async addCredential(credential: NewCredential): Promise<void> {
    await this.sql.query(
      `INSERT INTO portal_credentials (id, client_id, admin_email, kind, lookup_hash, sealed, confirmed, enrolment_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz)`,
      [
        credential.id,
        credential.clientId,
        this.sealer.sealAddress(credential.email),
        credential.kind,
        credential.lookupHash,
        credential.sealed,
        credential.confirmed,
        credential.enrolmentHash,
        credential.createdAt.toISOString(),
      ],
    );
  }

  async listCredentials(admin: AdminRef): Promise<StoredCredential[]> {
    const rows = await this.sql.query<CredentialRow>(
      `SELECT ${COLUMNS} FROM portal_credentials WHERE client_id = $1 AND admin_email = $2 ORDER BY created_at, id`,
      [admin.clientId, this.sealer.sealAddress(admin.email)],
    );
    return rows.map((row) => toCredential(row, this.sealer));
  }

  async findPasskey(lookupHash: string): Promise<StoredCredential | null> {
    const rows = await this.sql.query<CredentialRow>(
      `SELECT ${COLUMNS} FROM portal_credentials WHERE lookup_hash = $1 AND kind = 'passkey'`,
      [lookupHash],
    );
    return rows[0] ? toCredential(rows[0], this.sealer) : null;
  }

  async listTotpByEmail(email: string): Promise<StoredCredential[]> {
    const rows = await this.sql.query<CredentialRow>(
      `SELECT ${COLUMNS} FROM portal_credentials WHERE admin_email = $1 AND kind = 'totp' AND confirmed ORDER BY created_at, id`,
      [this.sealer.sealAddress(email)],
    );
    return rows.map((row) => toCredential(row, this.sealer));
  }

  async confirmCredential(id: string): Promise<void> {
    await this.sql.query('UPDATE portal_credentials SET confirmed = true WHERE id = $1', [id]);
  }

  async recordUse(id: string, use: { at: Date; timeStep?: number; counter?: number }): Promise<boolean> {
    // One conditional UPDATE: two requests replaying the same code cannot both pass.
    const rows = await this.sql.query(
      `UPDATE portal_credentials
          SET last_used_at = $2::timestamptz,
              last_time_step = COALESCE($3::bigint, last_time_step),
              counter = COALESCE($4::bigint, counter)
        WHERE id = $1
          AND ($3::bigint IS NULL OR last_time_step IS NULL OR last_time_step < $3::bigint)
          AND ($4::bigint IS NULL OR $4::bigint = 0 OR counter < $4::bigint)
        RETURNING id`,
      [id, use.at.toISOString(), use.timeStep ?? null, use.counter ?? null],
    );
    return rows.length === 1;
  }

  async replaceCredentials(admin: AdminRef, keepEnrolmentHash: string): Promise<void> {
    await this.sql.query(
      'DELETE FROM portal_credentials WHERE client_id = $1 AND admin_email = $2 AND (enrolment_hash <> $3 OR NOT confirmed)',
      [admin.clientId, this.sealer.sealAddress(admin.email), keepEnrolmentHash],
    );
  }
}

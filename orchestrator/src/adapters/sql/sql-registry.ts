import { randomBytes } from 'node:crypto';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ClientStatus } from '../../domain/client-status.ts';
import { hashOpsLogEntry, newSeals, OPS_LOG_ANCHORED_ACTION, type OpsLogHead } from '../../domain/ops-log-chain.ts';
import type { OpsLogCheckpointStatus } from '../../domain/ops-log-checkpoint-status.ts';
import { boundOpsLogDetails } from '../../domain/ops-log-details.ts';
import type { AuditCheckpoint, ClaimResult, ClientRecord, GuardedAppend, NewClient, NewOpsLogEntry, OpsLogAppendGuard, OpsLogEntry, OpsLogListFilter, Registry } from '../../ports/registry.ts';
import type { OpsLogHeadCheckpoint } from './ops-log-head-checkpoint.ts';
import { opsLogHeadWritesSettled, recordOpsLogHead, type HeadRecording } from './ops-log-head-writer.ts';
import { SEALED_PREFIX, type RegistrySealer, type SealedOpsLogFields } from './registry-sealer.ts';
import { quotedIdentifier, type SqlExecutor } from './sql-executor.ts';

/**
 * The tables that hold rows of one client. Not the ops log, which keeps its history by design (a deletion
 * erases the personal fields of the client's entries, not the entries), nor the portal's
 * used links: a nonce hash, kept until the link expires so that it cannot be used twice.
 */
const PER_CLIENT_TABLES = [
  { name: 'clients', clientColumn: 'id' },
  { name: 'audit_checkpoints', clientColumn: 'client_id' },
  { name: 'onboarding_checks', clientColumn: 'client_id' },
] as const;

/** Where the portal keeps a client's admins (their passkeys, sessions, enrolment links): erasure deletes them first. */
const PORTAL_ADMIN_TABLES = ['portal_enrolments', 'portal_credentials', 'portal_sessions', 'portal_used_links'] as const;

type ClientRow = {
  id: string;
  status: string;
  provider: string;
  admins: unknown;
  config_yaml: string;
  subnet: string | null;
  onboarding_started_at: Date | string;
  operation_id: string | null;
  operation_heartbeat_at: Date | string | null;
  status_reason: string | null;
  created_at: Date | string;
  updated_at: Date | string;
};

type OpsLogRow = {
  seq: number | string;
  at: Date | string | number;
  /** Null once sealed (in `sealed_fields`, with `reason` and `details`). */
  actor: string | null;
  action: string;
  client_id: string | null;
  reason: string | null;
  outcome: string;
  details: unknown;
  prev_hash: string;
  hash: string;
  seals: unknown;
  erased_at: Date | string | number | null;
  sealed_fields: string | null;
};

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** The admins column: a sealed JSON array (a JSON string in the jsonb column), or an array written before sealing. */
function openAdmins(sealer: RegistrySealer, clientId: string, stored: unknown): string[] {
  // The drivers hand a jsonb string back decoded; an array may come as JSON text.
  const value = typeof stored === 'string' && sealer.isSealed(stored) ? stored : parseJson(stored);
  return (typeof value === 'string' ? JSON.parse(sealer.open(clientId, 'admins', value)) : value) as string[];
}

function toClient(row: ClientRow, sealer: RegistrySealer): ClientRecord {
  return {
    id: row.id as ClientId,
    status: row.status as ClientStatus,
    provider: row.provider as ClientRecord['provider'],
    admins: openAdmins(sealer, row.id, row.admins),
    configYaml: sealer.open(row.id, 'config_yaml', row.config_yaml),
    subnet: row.subnet,
    onboardingStartedAt: iso(row.onboarding_started_at),
    operationId: row.operation_id,
    operationHeartbeatAt: row.operation_heartbeat_at ? iso(row.operation_heartbeat_at) : null,
    statusReason: row.status_reason === null ? null : sealer.open(row.id, 'status_reason', row.status_reason),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** An entry's actor, reason and details: sealed together, or (written before sealing) in their own columns. */
function opsLogFields(row: OpsLogRow, sealer: RegistrySealer): SealedOpsLogFields {
  if (row.sealed_fields === null) return { actor: row.actor ?? '', reason: row.reason, details: parseJson(row.details) as Record<string, unknown> };
  try {
    return sealer.openOpsLogFields(Number(row.seq), row.sealed_fields);
  } catch (error) {
    // Which entry: an auditor must be able to find it (the sealer's own message names none).
    throw new FleetError('integrity', `ops-log entry at seq ${String(row.seq)}: its sealed actor, reason and details do not open (altered in the database, moved from another entry, or sealed under another key)`, { cause: error });
  }
}

/**
 * A stored time as the entry's ISO text; one no ISO text can hold (PostgreSQL's `infinity`, read back as
 * an infinite number or an invalid date) as it reads, so that the entry fails its hash instead of the
 * whole log failing to load.
 */
function entryTime(value: Date | string | number): string {
  const time = value instanceof Date ? value : new Date(value);
  return Number.isNaN(time.getTime()) ? String(value) : time.toISOString();
}

function toOpsLog(row: OpsLogRow, sealer: RegistrySealer): OpsLogEntry {
  const seals = row.seals === null ? null : (parseJson(row.seals) as OpsLogEntry['seals'] | null);
  const { actor, reason, details } = opsLogFields(row, sealer);
  return {
    seq: Number(row.seq),
    at: entryTime(row.at),
    actor,
    action: row.action,
    clientId: row.client_id,
    reason,
    outcome: row.outcome,
    details,
    prevHash: row.prev_hash,
    hash: row.hash,
    ...(seals === null ? {} : { seals }),
    ...(row.erased_at === null ? {} : { erasedAt: entryTime(row.erased_at) }),
  };
}

const newSalt = (): string => randomBytes(16).toString('base64url');

const OPS_LOG_SEALING_BATCH = 1000;

/** The advisory lock that serialises the ops log's appends (and the head checkpoint's anchoring at start). */
const OPS_LOG_LOCK = 'SELECT pg_advisory_xact_lock(727262)';

/** What the error log says when a head was not recorded, by what stopped it. */
const HEAD_NOT_RECORDED = {
  failed: 'ops-log head checkpoint not written: the entry is recorded; the next append writes the head again',
  'refused-invalid':
    'ops-log head checkpoint fails its MAC, or records an entry the log no longer holds (its tail was cut or rewritten), and is kept as evidence: appends do not move it until it is re-anchored',
  missing:
    'ops-log head checkpoint is gone (deleted or moved away while the orchestrator ran): it is not made again from what the database holds now; ops-log verification fails until a restart anchors the log anew, on the record',
} as const;

function missingCheckpointProblem(location: string, lastSeq: number): string {
  return `ops-log head checkpoint ${location} is missing although the log holds entries up to seq ${lastSeq}: it was deleted or moved away (or its first write failed), and nothing outside the database vouches for the log's tail. Find out why; a restart anchors the log at its current head and records that with an ops-log-anchored entry`;
}

/** What the registry keeps beside the database: the ops log's head checkpoint, and where its failures are told. */
export interface SqlRegistryOptions {
  headCheckpoint?: OpsLogHeadCheckpoint | null;
  logger?: Logger | null;
  /**
   * How long an append waits for its head checkpoint's write before it returns anyway (ms, default 5,000):
   * the entry is committed, and a stalled file system (or something other than a file at the checkpoint's
   * path) must not hold up the action it records, a kill above all. The write goes on, and what becomes of
   * it is logged.
   */
  headCheckpointWaitMs?: number;
}

/** What `anchorOpsLogHead` found at start: a checkpoint, none made now from the log's head, or an empty log. */
export type OpsLogAnchoring =
  | { checkpoint: 'present' }
  | { checkpoint: 'created'; head: OpsLogHead }
  | { checkpoint: 'empty-log' }
  | { checkpoint: 'invalid'; problem: string }
  | { checkpoint: 'none' };

/**
 * The registry over SQL; the same statements run on PostgreSQL and on PGlite. A client's configuration
 * and admins, and each ops-log entry's actor, reason and details, are sealed by `sealer` before they reach
 * the database. With `headCheckpoint`, each append's head is recorded outside the database too, once
 * committed (see `opsLogHeadCheckpoint`); a write of it that fails is logged to `logger` and counted in
 * `opsLogHeadCheckpointFailures`, and does not fail the append (the entry is committed).
 */
export class SqlRegistry implements Registry {
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;
  private readonly headCheckpoint: OpsLogHeadCheckpoint | null;
  private readonly logger: Logger | null;
  private readonly headCheckpointWaitMs: number;
  private failedHeadWrites = 0;
  /** Whether the last head write this handle saw failed or was refused (the checkpoint is behind the log). */
  private headBehind = false;
  /** Whether the start found no checkpoint beside a log with entries and made one from its head. */
  private anchoredOnFirstUse = false;

  constructor(sql: SqlExecutor, sealer: RegistrySealer, options: SqlRegistryOptions = {}) {
    this.sql = sql;
    this.sealer = sealer;
    this.headCheckpoint = options.headCheckpoint ?? null;
    this.logger = options.logger?.child({ component: 'ops-log-head-checkpoint' }) ?? null;
    this.headCheckpointWaitMs = options.headCheckpointWaitMs ?? 5_000;
  }

  /** How many head checkpoint writes failed since this handle was made (an I/O error, or a file that fails its MAC). */
  get opsLogHeadCheckpointFailures(): number {
    return this.failedHeadWrites;
  }

  /** The sealed column values of a client's configuration. */
  private sealedConfig(clientId: string, config: { configYaml: string; admins: readonly string[] }): { configYaml: string; admins: string } {
    return {
      configYaml: this.sealer.seal(clientId, 'config_yaml', config.configYaml),
      admins: JSON.stringify(this.sealer.seal(clientId, 'admins', JSON.stringify(config.admins))),
    };
  }

  private sealedStatusReason(clientId: string, reason: string | null): string | null {
    return reason === null ? null : this.sealer.seal(clientId, 'status_reason', reason);
  }

  /**
   * Seals what an earlier release wrote in plaintext (client configurations, ops-log entries), then rewrites
   * those tables so that the plaintext leaves the database files. Returns how many rows were sealed.
   */
  async sealPlaintext(): Promise<{ clients: number; opsLogEntries: number }> {
    const sealed = { clients: await this.sealPlaintextConfigs(), opsLogEntries: await this.sealPlaintextOpsLog() };
    const tables = [...(sealed.clients > 0 ? ['clients'] : []), ...(sealed.opsLogEntries > 0 ? ['ops_log'] : [])];
    if (tables.length > 0) await this.sql.reclaim(tables);
    return sealed;
  }

  private async sealPlaintextConfigs(): Promise<number> {
    return this.sql.transaction(async (tx) => {
      // Runs at every start: only the rows an earlier release wrote are read (none, once they are sealed).
      const rows = await tx.query<Pick<ClientRow, 'id' | 'admins' | 'config_yaml' | 'status_reason'>>(
        `SELECT id, admins, config_yaml, status_reason FROM clients
         WHERE NOT (starts_with(config_yaml, $1) AND jsonb_typeof(admins) = 'string' AND starts_with(admins #>> '{}', $1)
                    AND (status_reason IS NULL OR starts_with(status_reason, $1)))
         FOR UPDATE`,
        [SEALED_PREFIX],
      );
      for (const row of rows) {
        const config = this.sealedConfig(row.id, { configYaml: this.sealer.open(row.id, 'config_yaml', row.config_yaml), admins: openAdmins(this.sealer, row.id, row.admins) });
        const reason = row.status_reason === null ? null : this.sealedStatusReason(row.id, this.sealer.open(row.id, 'status_reason', row.status_reason));
        await tx.query('UPDATE clients SET config_yaml = $2, admins = $3, status_reason = $4 WHERE id = $1', [row.id, config.configYaml, config.admins, reason]);
      }
      return rows.length;
    });
  }

  /** In batches, each its own transaction: a long log written by an earlier release does not hold one lock for all of it. */
  private async sealPlaintextOpsLog(): Promise<number> {
    let total = 0;
    for (;;) {
      const sealed = await this.sql.transaction(async (tx) => {
        const rows = await tx.query<OpsLogRow>(
          'SELECT * FROM ops_log WHERE sealed_fields IS NULL ORDER BY seq LIMIT $1 FOR UPDATE',
          [OPS_LOG_SEALING_BATCH],
        );
        const seqs = rows.map((row) => Number(row.seq));
        const sealedFields = rows.map((row, index) => this.sealer.sealOpsLogFields(seqs[index]!, opsLogFields(row, this.sealer)));
        await tx.query(
          `UPDATE ops_log SET actor = NULL, reason = NULL, details = NULL, sealed_fields = batch.sealed_fields
           FROM unnest($1::bigint[], $2::text[]) AS batch(seq, sealed_fields) WHERE ops_log.seq = batch.seq`,
          [seqs, sealedFields],
        );
        return rows.length;
      });
      total += sealed;
      if (sealed < OPS_LOG_SEALING_BATCH) return total;
    }
  }

  async claimForProvisioning(client: NewClient, operationId: string, now: Date, staleAfterMs: number): Promise<ClaimResult> {
    const sealed = this.sealedConfig(client.id, client);
    return this.sql.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO clients (id, status, provider, admins, config_yaml, onboarding_started_at, operation_id,
                              operation_step, operation_heartbeat_at, created_at, updated_at)
         VALUES ($1, 'provisioning', $2, $3, $4, $5, $6, 'claimed', $7, $7, $7)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [client.id, client.provider, sealed.admins, sealed.configYaml, client.onboardingStartedAt, operationId, now],
      );
      if (inserted.length === 1) return { outcome: 'claimed', created: true, previousStatus: null };

      const [row] = await tx.query<ClientRow>('SELECT * FROM clients WHERE id = $1 FOR UPDATE', [client.id]);
      if (!row) throw new Error(`client ${client.id} vanished during claim`);
      const status = row.status as ClientStatus;
      if (status === 'active') return { outcome: 'already-active' };
      if (status === 'killed') return { outcome: 'killed' };
      const heartbeat = row.operation_heartbeat_at ? new Date(row.operation_heartbeat_at).getTime() : 0;
      const inProgress = status === 'provisioning' || status === 'deprovisioning';
      if (inProgress && now.getTime() - heartbeat < staleAfterMs) return { outcome: 'busy', operationId: row.operation_id };

      await tx.query(
        `UPDATE clients SET status = 'provisioning', provider = $2, admins = $3, config_yaml = $4, operation_id = $5,
                operation_step = 'claimed', operation_heartbeat_at = $6, status_reason = NULL, updated_at = $6
         WHERE id = $1`,
        [client.id, client.provider, sealed.admins, sealed.configYaml, operationId, now],
      );
      return { outcome: 'claimed', created: false, previousStatus: status };
    });
  }

  async getClient(id: ClientId): Promise<ClientRecord | null> {
    const [row] = await this.sql.query<ClientRow>('SELECT * FROM clients WHERE id = $1', [id]);
    return row ? toClient(row, this.sealer) : null;
  }

  async listClients(): Promise<ClientRecord[]> {
    return (await this.sql.query<ClientRow>('SELECT * FROM clients ORDER BY id')).map((row) => toClient(row, this.sealer));
  }

  async recordProgress(id: ClientId, operationId: string, step: string, now: Date): Promise<void> {
    await this.sql.query(
      'UPDATE clients SET operation_step = $3, operation_heartbeat_at = $4, updated_at = $4 WHERE id = $1 AND operation_id = $2',
      [id, operationId, step, now],
    );
  }

  async setSubnet(id: ClientId, subnet: string | null, options: { operationId?: string } = {}): Promise<void> {
    await this.sql.query('UPDATE clients SET subnet = $2 WHERE id = $1 AND ($3::text IS NULL OR operation_id = $3::text)', [id, subnet, options.operationId ?? null]);
  }

  async updateConfig(id: ClientId, config: { configYaml: string; admins: string[]; provider: 'gmail' | 'outlook' }, now: Date): Promise<void> {
    const sealed = this.sealedConfig(id, config);
    await this.sql.query('UPDATE clients SET config_yaml = $2, admins = $3, provider = $4, updated_at = $5 WHERE id = $1', [
      id,
      sealed.configYaml,
      sealed.admins,
      config.provider,
      now,
    ]);
  }

  async setStatus(id: ClientId, status: ClientStatus, reason: string | null, now: Date): Promise<void> {
    await this.sql.query('UPDATE clients SET status = $2, status_reason = $3, updated_at = $4 WHERE id = $1', [
      id,
      status,
      this.sealedStatusReason(id, reason),
      now,
    ]);
  }

  async transition(id: ClientId, from: readonly ClientStatus[], to: ClientStatus, reason: string | null, now: Date, options: { operationId?: string } = {}): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE clients SET status = $3, status_reason = $4, updated_at = $5
       WHERE id = $1 AND status = ANY($2::text[]) AND ($6::text IS NULL OR operation_id = $6::text) RETURNING id`,
      [id, [...from], to, this.sealedStatusReason(id, reason), now, options.operationId ?? null],
    );
    return rows.length === 1;
  }

  async claim(id: ClientId, operationId: string, move: { from: readonly ClientStatus[]; to: ClientStatus; reason: string | null }, now: Date, staleAfterMs: number): Promise<boolean> {
    const staleBefore = new Date(now.getTime() - staleAfterMs);
    const rows = await this.sql.query(
      `UPDATE clients SET status = $3, status_reason = $4, operation_id = $5, operation_step = 'claimed', operation_heartbeat_at = $6, updated_at = $6
       WHERE id = $1 AND status = ANY($2::text[])
         AND (status NOT IN ('provisioning', 'deprovisioning') OR operation_heartbeat_at IS NULL OR operation_heartbeat_at <= $7)
       RETURNING id`,
      [id, [...move.from], move.to, this.sealedStatusReason(id, move.reason), operationId, now, staleBefore],
    );
    return rows.length === 1;
  }

  async releaseClaim(id: ClientId, operationId: string, now: Date): Promise<boolean> {
    const rows = await this.sql.query(
      'UPDATE clients SET operation_heartbeat_at = NULL, updated_at = $3 WHERE id = $1 AND operation_id = $2 RETURNING id',
      [id, operationId, now],
    );
    return rows.length === 1;
  }

  async deleteClient(id: ClientId, options: { operationId?: string; withoutRow?: boolean } = {}): Promise<boolean> {
    if (options.withoutRow === true) return this.deleteRowlessClient(id);
    return this.sql.transaction(async (tx) => {
      // The row is locked first: a claim that lands meanwhile waits, and then finds no row to claim.
      const [owned] = await tx.query('SELECT id FROM clients WHERE id = $1 AND ($2::text IS NULL OR operation_id = $2::text) FOR UPDATE', [id, options.operationId ?? null]);
      if (owned === undefined && options.operationId !== undefined) return false;
      for (const table of PER_CLIENT_TABLES) {
        await tx.query(`DELETE FROM ${quotedIdentifier(table.name)} WHERE ${quotedIdentifier(table.clientColumn)} = $1`, [id]);
      }
      return owned !== undefined;
    });
  }

  /**
   * What a client without a row left (its audit checkpoint, its onboarding check), each statement conditional
   * on there being no row still: a row a provisioning inserts meanwhile is never deleted, nor what is its.
   */
  private async deleteRowlessClient(id: ClientId): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      for (const table of PER_CLIENT_TABLES.filter((candidate) => candidate.name !== 'clients')) {
        await tx.query(
          `DELETE FROM ${quotedIdentifier(table.name)} WHERE ${quotedIdentifier(table.clientColumn)} = $1 AND NOT EXISTS (SELECT 1 FROM clients WHERE id = $1)`,
          [id],
        );
      }
      const [row] = await tx.query('SELECT id FROM clients WHERE id = $1', [id]);
      return row === undefined;
    });
  }

  async reclaimDeletedRows(): Promise<{ writeAheadLog: boolean }> {
    // Erasure rewrites ops-log entries and incident notifications in place: their old versions go too.
    return this.sql.reclaim([...PER_CLIENT_TABLES.map((table) => table.name), ...PORTAL_ADMIN_TABLES, 'ops_log', 'incidents']);
  }

  async allocatedSubnets(): Promise<string[]> {
    const rows = await this.sql.query<{ subnet: string }>('SELECT subnet FROM clients WHERE subnet IS NOT NULL');
    return rows.map((row) => row.subnet);
  }

  async appendOpsLog(entry: NewOpsLogEntry): Promise<OpsLogEntry> {
    const appended = await this.sql.transaction(async (tx) => {
      // One writer at a time extends the chain.
      await tx.query(OPS_LOG_LOCK);
      return this.insertOpsLogEntry(tx, entry);
    });
    // After the commit, never before: a crash in between leaves the checkpoint behind the log, which
    // verification accepts, never ahead of it, which it would take for a truncation.
    await this.recordHead(appended);
    return appended;
  }

  async appendOpsLogIf<Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>): Promise<GuardedAppend<Refusal>> {
    const decided = await this.sql.transaction(async (tx): Promise<GuardedAppend<Refusal>> => {
      // Read under the lock every append takes: nothing is appended between these reads and this entry.
      await tx.query(OPS_LOG_LOCK);
      const read: OpsLogEntry[][] = [];
      for (const filter of guard.reads) read.push(await this.opsLogOn(tx, filter));
      const refusal = guard.refusal(read);
      if (refusal !== null) return { outcome: 'refused', refusal };
      return { outcome: 'appended', entry: await this.insertOpsLogEntry(tx, entry) };
    });
    if (decided.outcome === 'appended') await this.recordHead(decided.entry);
    return decided;
  }

  /** Chains and inserts one entry; the caller's transaction holds the ops log's lock. */
  private async insertOpsLogEntry(tx: SqlExecutor, entry: NewOpsLogEntry): Promise<OpsLogEntry> {
    const last = await lastOpsLogHead(tx);
    const unhashed = {
      seq: last ? last.seq + 1 : 1,
      at: new Date(entry.at ?? Date.now()).toISOString(),
      actor: entry.actor,
      action: entry.action,
      clientId: entry.clientId,
      reason: entry.reason,
      outcome: entry.outcome,
      details: boundOpsLogDetails(entry.details),
      prevHash: last ? last.hash : GENESIS_HASH,
      seals: newSeals(newSalt),
    };
    const full: OpsLogEntry = { ...unhashed, hash: hashOpsLogEntry(unhashed) };
    await tx.query(
      `INSERT INTO ops_log (seq, at, action, client_id, outcome, prev_hash, hash, seals, sealed_fields)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [full.seq, full.at, full.action, full.clientId, full.outcome, full.prevHash, full.hash, JSON.stringify(full.seals), this.sealer.sealOpsLogFields(full.seq, full)],
    );
    return full;
  }

  /**
   * Moves the head checkpoint to `head` (never backwards); never throws. A write that fails leaves the
   * checkpoint behind the log, and the next append's write (of its own, later head) catches it up. A
   * missing checkpoint is made only for the log's first entry (the start anchors any other: a checkpoint
   * missing after that was deleted, and making it from the database's head would anchor whatever the
   * database holds now, whichever instance started first), and the checkpoint moves on only while the log
   * still holds the head it records (a tail cut and grown again by later appends is not vouched for).
   */
  private async recordHead(head: OpsLogHead): Promise<void> {
    const checkpoint = this.headCheckpoint;
    if (checkpoint === null) return;
    const options = { create: head.seq === 1, latest: () => lastOpsLogHead(this.sql), holds: (recorded: OpsLogHead) => logHolds(this.sql, recorded) };
    const written = recordOpsLogHead(checkpoint, { seq: head.seq, hash: head.hash }, options).then((recording) => {
      this.noteHeadRecording(recording, checkpoint.location);
      return 'written' as const;
    });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waiting'>((resolve) => {
      timer = setTimeout(() => resolve('waiting'), this.headCheckpointWaitMs);
      timer.unref();
    });
    if ((await Promise.race([written, waited])) === 'waiting') {
      this.logger?.warn('ops-log head checkpoint write is slow: the entry is recorded, the write goes on', { seq: head.seq, location: checkpoint.location, waitedMs: this.headCheckpointWaitMs });
    }
    clearTimeout(timer);
  }

  private noteHeadRecording(recording: HeadRecording, location: string): void {
    if (recording.outcome === 'advanced' || recording.outcome === 'kept') {
      if (this.headBehind) this.logger?.info('ops-log head checkpoint caught up with the log', { seq: recording.seq, location });
      this.headBehind = false;
      return;
    }
    this.failedHeadWrites += 1;
    // Logged when the checkpoint falls behind, not at every append while it stays there.
    if (!this.headBehind) {
      this.logger?.error(HEAD_NOT_RECORDED[recording.outcome], {
        seq: recording.seq,
        location,
        failures: this.failedHeadWrites,
        ...(recording.outcome === 'failed' ? { error: recording.error } : {}),
      });
    }
    this.headBehind = true;
  }

  /**
   * The ops log's head as recorded outside the database, or null (none kept, or none yet: the log is
   * empty). A checkpoint that fails its MAC, or none beside a log with entries, is an integrity error:
   * verification must not pass a log that nothing outside the database vouches for as if it did.
   */
  async opsLogHeadCheckpoint(): Promise<OpsLogHead | null> {
    const checkpoint = this.headCheckpoint;
    if (checkpoint === null) return null;
    const recorded = await checkpoint.read();
    if (recorded !== null) return recorded;
    // The log's first entry may be committed with its write still running (waited for as long as an append would).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      opsLogHeadWritesSettled(checkpoint.location),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.headCheckpointWaitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    const written = await checkpoint.read();
    if (written !== null) return written;
    const last = await lastOpsLogHead(this.sql);
    if (last === null) return null;
    throw new FleetError('integrity', missingCheckpointProblem(checkpoint.location, last.seq));
  }

  /**
   * The head checkpoint's state for metrics (see `OpsLogCheckpointStatus`); never throws for what it finds
   * in the file, only when the database cannot be read.
   */
  async opsLogCheckpointStatus(): Promise<OpsLogCheckpointStatus> {
    const counters = { writeFailures: this.failedHeadWrites, anchoredOnFirstUse: this.anchoredOnFirstUse };
    const checkpoint = this.headCheckpoint;
    if (checkpoint === null) return { state: 'none', lagEntries: 0, ...counters };
    let recorded: OpsLogHead | null;
    try {
      recorded = await checkpoint.read();
    } catch {
      return { state: 'invalid', lagEntries: 0, ...counters };
    }
    const last = await lastOpsLogHead(this.sql);
    if (recorded === null) return last === null ? { state: 'empty', lagEntries: 0, ...counters } : { state: 'missing', lagEntries: last.seq, ...counters };
    if (last === null || last.seq < recorded.seq) return { state: 'disagrees', lagEntries: 0, ...counters };
    const [entry] = await this.sql.query<{ hash: string }>('SELECT hash FROM ops_log WHERE seq = $1', [recorded.seq]);
    if (entry?.hash !== recorded.hash) return { state: 'disagrees', lagEntries: 0, ...counters };
    return { state: 'ok', lagEntries: last.seq - recorded.seq, ...counters };
  }

  /**
   * At start: records the log's current head when no checkpoint exists yet (a registry from before
   * checkpoints, a new one, or one whose checkpoint was deleted or moved away), and says so: beside a log
   * with entries that is trust on first use, kept on the record with an `ops-log-anchored` entry (which
   * verification reports) and logged as a warning. A checkpoint that exists is left as it is, also one that
   * cannot be trusted or read, or that the log disagrees with (its tail deleted or rewritten, or the database
   * restored from a backup older than the checkpoint): the orchestrator still starts, and the problem says
   * what an operator should do; verification reports it until the checkpoint is moved away.
   */
  async anchorOpsLogHead(): Promise<OpsLogAnchoring> {
    const checkpoint = this.headCheckpoint;
    if (checkpoint === null) return { checkpoint: 'none' };
    const anchoring = await this.sql.transaction(async (tx): Promise<OpsLogAnchoring> => {
      await tx.query(OPS_LOG_LOCK);
      let recorded: OpsLogHead | null;
      try {
        recorded = await checkpoint.read();
      } catch (error) {
        if (error instanceof FleetError && error.code === 'integrity') return { checkpoint: 'invalid', problem: error.message };
        return { checkpoint: 'invalid', problem: `ops-log head checkpoint ${checkpoint.location} cannot be read (${(error as Error).message}): fix or move it away and restart` };
      }
      const last = await lastOpsLogHead(tx);
      if (recorded !== null) {
        const problem = await this.disagreementWithLog(tx, recorded, last?.seq ?? 0, checkpoint.location);
        return problem === null ? { checkpoint: 'present' } : { checkpoint: 'invalid', problem };
      }
      if (last === null) return { checkpoint: 'empty-log' };
      // Through the same queue as appends' writes, so that this process's writes of the file never interleave.
      const recording = await recordOpsLogHead(checkpoint, last, { create: true });
      if (recording.outcome === 'failed') throw recording.error;
      return { checkpoint: 'created', head: last };
    });
    if (anchoring.checkpoint === 'created') await this.recordAnchoring(anchoring.head, checkpoint.location);
    return anchoring;
  }

  /** A checkpoint made at start beside a log with entries: on the record, in the log itself, and in the logs. */
  private async recordAnchoring(head: OpsLogHead, location: string): Promise<void> {
    this.anchoredOnFirstUse = true;
    this.logger?.warn(
      'no ops-log head checkpoint at start: the log is anchored at its current head, trusted as it is (the first start with checkpoints, or the checkpoint was deleted or moved away)',
      { seq: head.seq, location },
    );
    await this.appendOpsLog({
      actor: 'orchestrator',
      action: OPS_LOG_ANCHORED_ACTION,
      clientId: null,
      reason: `no head checkpoint at start: the log up to seq ${head.seq} is trusted as it was then`,
      outcome: 'success',
      details: { anchoredSeq: head.seq, anchoredHash: head.hash },
    });
  }

  /** Why the log does not reach, or does not hold, the recorded head; null when it does. */
  private async disagreementWithLog(tx: SqlExecutor, recorded: OpsLogHead, lastSeq: number, location: string): Promise<string | null> {
    const reanchor = `If the database was restored from a backup on purpose, keep ${location} with the restore's records, move it away and restart: the log is then anchored at its restored head (an ops-log-anchored entry records it). Otherwise treat it as tampering (fleet ops-log verify names the first entry concerned).`;
    if (lastSeq < recorded.seq) {
      return `the ops log ends at seq ${lastSeq}, before its head checkpoint at seq ${recorded.seq}: entries were deleted from the database, or it was restored from a backup older than the checkpoint. ${reanchor}`;
    }
    const [entry] = await tx.query<{ hash: string }>('SELECT hash FROM ops_log WHERE seq = $1', [recorded.seq]);
    if (entry?.hash !== recorded.hash) {
      return `the ops log's entry at seq ${recorded.seq} is not the one its head checkpoint records: the log was rewritten from there, or the database was restored from another backup. ${reanchor}`;
    }
    return null;
  }

  async saveErasedOpsLogEntries(entries: readonly OpsLogEntry[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (const entry of entries) {
        const [stored] = await tx.query<{ hash: string }>('SELECT hash FROM ops_log WHERE seq = $1 FOR UPDATE', [entry.seq]);
        if (entry.seals === undefined || entry.erasedAt === undefined || stored?.hash !== entry.hash || hashOpsLogEntry(entry) !== entry.hash) {
          throw new FleetError('integrity', `ops-log entry ${entry.seq}: not an erasure of the stored entry (its hash would change)`);
        }
        await tx.query(
          'UPDATE ops_log SET actor = NULL, reason = NULL, details = NULL, sealed_fields = $2, seals = $3, erased_at = $4 WHERE seq = $1',
          [entry.seq, this.sealer.sealOpsLogFields(entry.seq, entry), JSON.stringify(entry.seals), entry.erasedAt],
        );
      }
    });
  }

  listOpsLog(filter: OpsLogListFilter = {}): Promise<OpsLogEntry[]> {
    return this.opsLogOn(this.sql, filter);
  }

  private async opsLogOn(sql: SqlExecutor, filter: OpsLogListFilter): Promise<OpsLogEntry[]> {
    const { conditions, parameters } = opsLogConditions(filter);
    if (filter.since !== undefined) {
      if (Number.isNaN(filter.since.getTime())) throw new FleetError('invalid_input', 'an ops-log read since an invalid date');
      parameters.push(filter.since.toISOString());
      conditions.push(`at >= $${parameters.length}::timestamptz`);
    }
    const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
    return (await sql.query<OpsLogRow>(`SELECT * FROM ops_log${where} ORDER BY seq`, parameters)).map((row) => toOpsLog(row, this.sealer));
  }

  async *readOpsLogPages(options: { pageSize: number; filter?: OpsLogFilter }): AsyncGenerator<OpsLogEntry[], void, undefined> {
    const { pageSize } = options;
    if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_OPS_LOG_PAGE) {
      throw new FleetError('invalid_input', `an ops-log page holds 1 to ${MAX_OPS_LOG_PAGE} entries, not ${pageSize}`);
    }
    // The cursor is the last row's seq as the database spells it: a seq past 2^53 read as a number would
    // round, and a page after a rounded-down seq would return the same rows again, for ever. The first page
    // has no lower bound, so that rows at seq 0 or below are read (and fail verification) like any other.
    let cursor: string | null = null;
    for (;;) {
      const { conditions, parameters } = opsLogConditions(options.filter ?? {});
      if (cursor !== null) {
        parameters.push(cursor);
        conditions.push(`seq > $${parameters.length}::bigint`);
      }
      parameters.push(pageSize);
      const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
      const rows = await this.sql.query<OpsLogRow & { page_cursor: string }>(
        `SELECT *, seq::text AS page_cursor FROM ops_log${where} ORDER BY seq LIMIT $${parameters.length}`,
        parameters,
      );
      if (rows.length > 0) yield rows.map((row) => toOpsLog(row, this.sealer));
      if (rows.length < pageSize) return;
      cursor = rows[rows.length - 1]!.page_cursor;
    }
  }

  async saveAuditCheckpoint(clientId: ClientId, head: { seq: number; hash: string }, now: Date): Promise<'saved' | 'unchanged' | 'regressed'> {
    return this.sql.transaction(async (tx) => {
      const current = await readAuditCheckpoint(tx, clientId, 'FOR UPDATE');
      if (current && head.seq < current.seq) return 'regressed';
      if (current && head.seq === current.seq) return current.hash === head.hash ? 'unchanged' : 'regressed';
      await writeAuditCheckpoint(tx, clientId, head, now);
      return 'saved';
    });
  }

  async replaceAuditCheckpoint(clientId: ClientId, head: { seq: number; hash: string }, now: Date): Promise<AuditCheckpoint | null> {
    return this.sql.transaction(async (tx) => {
      const previous = await readAuditCheckpoint(tx, clientId, 'FOR UPDATE');
      await writeAuditCheckpoint(tx, clientId, head, now);
      return previous;
    });
  }

  getAuditCheckpoint(clientId: ClientId): Promise<AuditCheckpoint | null> {
    return readAuditCheckpoint(this.sql, clientId);
  }

  async fleetId(): Promise<string> {
    const [row] = await this.sql.query<{ id: string }>('SELECT id FROM fleet_identity');
    if (!row) throw new Error('the registry has no fleet identity: migrations incomplete');
    return row.id;
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}

/** Whether the log holds `head`: an entry at its seq with its hash. */
async function logHolds(sql: SqlExecutor, head: OpsLogHead): Promise<boolean> {
  const [row] = await sql.query<{ hash: string }>('SELECT hash FROM ops_log WHERE seq = $1', [head.seq]);
  return row?.hash === head.hash;
}

/** The log's last entry, or null for an empty log. */
async function lastOpsLogHead(sql: SqlExecutor): Promise<OpsLogHead | null> {
  const [last] = await sql.query<{ seq: number | string; hash: string }>('SELECT seq, hash FROM ops_log ORDER BY seq DESC LIMIT 1');
  return last ? { seq: Number(last.seq), hash: last.hash } : null;
}

type OpsLogFilter = { clientId?: string; actions?: readonly string[] };

/** The most entries one page of `readOpsLogPages` may hold: a caller's page size is a bound on memory, not a way round it. */
const MAX_OPS_LOG_PAGE = 10_000;

/** The WHERE conditions of an ops-log filter, numbered from $1. */
function opsLogConditions(filter: OpsLogFilter): { conditions: string[]; parameters: unknown[] } {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  if (filter.clientId !== undefined) {
    parameters.push(filter.clientId);
    conditions.push(`client_id = $${parameters.length}`);
  }
  if (filter.actions !== undefined) {
    parameters.push([...filter.actions]);
    conditions.push(`action = ANY($${parameters.length}::text[])`);
  }
  return { conditions, parameters };
}

async function readAuditCheckpoint(sql: SqlExecutor, clientId: ClientId, lock: '' | 'FOR UPDATE' = ''): Promise<AuditCheckpoint | null> {
  const [row] = await sql.query<{ seq: number | string; hash: string; at: Date | string }>(
    `SELECT seq, hash, at FROM audit_checkpoints WHERE client_id = $1 ${lock}`,
    [clientId],
  );
  return row ? { seq: Number(row.seq), hash: row.hash, at: iso(row.at) } : null;
}

async function writeAuditCheckpoint(sql: SqlExecutor, clientId: ClientId, head: { seq: number; hash: string }, now: Date): Promise<void> {
  await sql.query(
    `INSERT INTO audit_checkpoints (client_id, seq, hash, at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (client_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, at = EXCLUDED.at`,
    [clientId, head.seq, head.hash, now],
  );
}

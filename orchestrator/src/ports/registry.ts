import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ClientStatus } from '../domain/client-status.ts';
import type { OpsLogHead } from '../domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../domain/ops-log-entry.ts';
import type { OpsLogCheckpointStatus } from '../domain/ops-log-checkpoint-status.ts';

export interface ClientRecord {
  id: ClientId;
  status: ClientStatus;
  provider: 'gmail' | 'outlook';
  admins: string[];
  /** The client's config YAML as last applied. */
  configYaml: string;
  subnet: string | null;
  onboardingStartedAt: string;
  operationId: string | null;
  /** When the owning operation last showed progress; a stale one may be taken over. */
  operationHeartbeatAt: string | null;
  statusReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewClient {
  id: ClientId;
  provider: 'gmail' | 'outlook';
  admins: string[];
  configYaml: string;
  onboardingStartedAt: string;
}

export type ClaimResult =
  | { outcome: 'claimed'; created: boolean; previousStatus: ClientStatus | null }
  | { outcome: 'already-active' }
  | { outcome: 'busy'; operationId: string | null }
  | { outcome: 'killed' };

export type { OpsLogEntry };

export type NewOpsLogEntry = Omit<OpsLogEntry, 'seq' | 'prevHash' | 'hash' | 'at' | 'seals' | 'erasedAt'> & { at?: string };

/** The last audit chain head seen for a client, kept outside its container. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
}

/** Which ops-log entries `listOpsLog` returns; every field given narrows the list (all of them must hold). */
export interface OpsLogListFilter {
  clientId?: string;
  actions?: readonly string[];
  /** Only entries whose `at` is at or after this instant. */
  since?: Date;
}

/**
 * What a conditional append (`appendOpsLogIf`) decides on: the entries it reads, one list per filter in
 * `reads` (as `listOpsLog` lists them), and its verdict on them.
 */
export interface OpsLogAppendGuard<Refusal> {
  reads: readonly OpsLogListFilter[];
  /**
   * Why the entry must not be appended (then it is not), or null to append it. Given the entries read, one
   * list per filter in the order of `reads`. Pure and quick: it runs while the registry holds the log's lock.
   */
  refusal(read: readonly (readonly OpsLogEntry[])[]): Refusal | null;
}

/** What a conditional append did: appended the entry, or refused it for the guard's reason. */
export type GuardedAppend<Refusal> = { outcome: 'appended'; entry: OpsLogEntry } | { outcome: 'refused'; refusal: Refusal };

/** The orchestrator's own state: clients, their operations, and the append-only ops log. */
export interface Registry {
  /** Atomically takes ownership of a client for provisioning, creating its row when new. */
  claimForProvisioning(client: NewClient, operationId: string, now: Date, staleAfterMs: number): Promise<ClaimResult>;
  getClient(id: ClientId): Promise<ClientRecord | null>;
  listClients(): Promise<ClientRecord[]>;
  /** Records progress of the owning operation (and refreshes its heartbeat). */
  recordProgress(id: ClientId, operationId: string, step: string, now: Date): Promise<void>;
  /** Records the client's subnet (null: none). With `operationId`, only while that operation still owns the client. */
  setSubnet(id: ClientId, subnet: string | null, options?: { operationId?: string }): Promise<void>;
  /** Records a client's config as its agent now applies it (a new settings version): YAML, admins, provider. */
  updateConfig(id: ClientId, config: { configYaml: string; admins: string[]; provider: 'gmail' | 'outlook' }, now: Date): Promise<void>;
  setStatus(id: ClientId, status: ClientStatus, reason: string | null, now: Date): Promise<void>;
  /**
   * Atomically moves a client from one of `from` to `to`; false when it was in another state. With
   * `operationId`, only while that operation still owns the client: false once another took it over.
   */
  transition(id: ClientId, from: readonly ClientStatus[], to: ClientStatus, reason: string | null, now: Date, options?: { operationId?: string }): Promise<boolean>;
  /**
   * Atomically makes `operationId` the client's owner (its operation id, with a fresh heartbeat), moving it
   * from one of `from` to `to`; false when it was in another state. A client in 'provisioning' or
   * 'deprovisioning' is taken only once its owner's heartbeat is `staleAfterMs` old (its orchestrator died)
   * or released (`releaseClaim`): a live operation is never taken over, and one that was stops at its next
   * ownership check (`transition` with `operationId`).
   */
  claim(id: ClientId, operationId: string, move: { from: readonly ClientStatus[]; to: ClientStatus; reason: string | null }, now: Date, staleAfterMs: number): Promise<boolean>;
  /**
   * Ends `operationId`'s hold on the client once it has stopped (it failed part way and left the client as
   * it was then, 'deprovisioning' say): its heartbeat is cleared, so the next operation claims the client at
   * once instead of waiting out the take-over age. False (nothing changed) once another operation owns it.
   */
  releaseClaim(id: ClientId, operationId: string, now: Date): Promise<boolean>;
  /**
   * Deletes the client's row with everything the registry keeps per client but the ops log (its audit
   * checkpoint, its onboarding check): a client made again under the same id starts clean. With
   * `operationId`, only while that operation still owns the client: nothing is deleted once another claimed
   * it. True when a row was deleted. With `withoutRow` (a purge of a client the registry no longer knows),
   * only what a client without a row left: a row made meanwhile (a provisioning elsewhere) is kept with all
   * that is its, and the answer is false; true when the client has no row.
   */
  deleteClient(id: ClientId, options?: { operationId?: string; withoutRow?: boolean }): Promise<boolean>;
  /**
   * Makes rows deleted from the per-client tables, ops-log values erased and incident notifications
   * rewritten (erasure, purge) gone from the registry's files too, not only invisible; `writeAheadLog`
   * says whether the database's write-ahead log was moved past them as well.
   */
  reclaimDeletedRows(): Promise<{ writeAheadLog: boolean }>;
  /** Subnets recorded for every client, to keep allocations unique. */
  allocatedSubnets(): Promise<string[]>;
  /** Appends to the hash-chained ops log. */
  appendOpsLog(entry: NewOpsLogEntry): Promise<OpsLogEntry>;
  /**
   * Appends `entry` only if `guard` finds no reason against it in the entries it reads: the reads, the
   * verdict and the append are one step against every other append to the same registry, from this process
   * or another (the CLI's server and the portal, replicas), so a check such as "at most N pending" or "still
   * pending" cannot be passed by two writers at once. A compare-and-set on the ops log.
   */
  appendOpsLogIf<Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>): Promise<GuardedAppend<Refusal>>;
  /**
   * Ops-log entries in sequence order: all, one client's, only the given actions (what a fold that runs
   * on every metrics scrape reads, instead of the whole log), or only those at or after `since` (what a
   * limit over a recent window reads, instead of the client's whole history).
   */
  listOpsLog(filter?: OpsLogListFilter): Promise<OpsLogEntry[]>;
  /**
   * The same entries as `listOpsLog`, in sequence order, a page of at most `pageSize` (1 to 10,000) at a
   * time: what reads the whole log (verification, `ops-log show`) then holds one page, not the log. Pages
   * are read as they are asked for; entries appended meanwhile are read too when they come after the page.
   */
  readOpsLogPages(options: { pageSize: number; filter?: { clientId?: string; actions?: readonly string[] } }): AsyncIterable<OpsLogEntry[]>;
  /**
   * The ops log's head as recorded outside the database after each append (null: none recorded), for
   * `verifyOpsLog`; read it before the entries. One that fails its MAC: an integrity error. Registries
   * that keep no such record leave it out.
   */
  opsLogHeadCheckpoint?(): Promise<OpsLogHead | null>;
  /** The head checkpoint's state against the log, for the metrics (read at scrape time). Absent: no checkpoint kept. */
  opsLogCheckpointStatus?(): Promise<OpsLogCheckpointStatus>;
  /**
   * Stores ops-log entries whose fields were erased (`eraseFields`), in one transaction. Refuses every
   * entry that would not hash to its stored hash: no other change to the log can go through here.
   */
  saveErasedOpsLogEntries(entries: readonly OpsLogEntry[]): Promise<void>;
  /**
   * Records a client's audit chain head. It never moves backwards: a head behind the stored one is refused
   * with outcome 'regressed' (the log was truncated or rewritten) and the stored checkpoint is kept.
   */
  saveAuditCheckpoint(clientId: ClientId, head: { seq: number; hash: string }, now: Date): Promise<'saved' | 'unchanged' | 'regressed'>;
  /** Replaces the client's checkpoint whatever it was (an operator's re-anchoring); returns the one it replaced. */
  replaceAuditCheckpoint(clientId: ClientId, head: { seq: number; hash: string }, now: Date): Promise<AuditCheckpoint | null>;
  getAuditCheckpoint(clientId: ClientId): Promise<AuditCheckpoint | null>;
  /**
   * This fleet's identity, created with the registry. Runtime resources carry it, so that two fleets
   * sharing one engine never treat each other's agents as orphans.
   */
  fleetId(): Promise<string>;
  close(): Promise<void>;
}

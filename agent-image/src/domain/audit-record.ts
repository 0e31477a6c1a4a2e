import { AUDIT_RECORD_FIELDS } from '@agent-fleet/kernel/audit-export-format';
import { GENESIS_HASH, canonicalJson, sha256Hex } from '@agent-fleet/kernel/canonical-json';

export { AUDIT_RECORD_FIELDS, GENESIS_HASH, canonicalJson, sha256Hex };

/**
 * The audit record shared by the agent (which writes it) and the orchestrator (which verifies and exports
 * it). Fields follow the spec's "Required Log Format", plus `content_hash` (so message content itself is
 * never stored in the log) and the hash chain (`seq`, `prev_hash`, `hash`). Pure: no I/O.
 */

export const AUDIT_ACTION_TYPES = [
  'email_read',
  'email_draft',
  'email_send',
  'email_label',
  'email_delete',
  'email_move',
  'calendar_read',
  'calendar_write',
  'crm_read',
  'crm_write',
  'file_share',
  'approval_requested',
  'approval_decided',
  'approval_expired',
  'policy_denied',
  'config_change',
  'auth_failure',
  'pause',
  'resume',
  'kill',
  'revive',
  'quarantine',
  'review_queued',
  'review_resolved',
  'send_released',
  'send_withdrawn',
  'send_discarded',
  'llm_call',
  'mail_watch',
  'mail_watch_renew',
  'mail_unwatch',
] as const;
export type AuditActionType = (typeof AUDIT_ACTION_TYPES)[number];

/** Where the action stands with respect to human approval. */
export const APPROVAL_STATUSES = [
  'not_required',
  'auto_approved',
  'pending',
  'approved',
  'edited',
  'rejected',
  'expired',
  'denied',
] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** `intended` is written before a side effect; the outcome follows in a later record. */
export const AUDIT_RESULTS = ['intended', 'success', 'failure', 'denied', 'dry_run', 'pending', 'skipped'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a caller appends; the log adds the timestamp (when absent) and the chain fields. */
export interface AuditEntry {
  /** UTC ISO-8601 with milliseconds, e.g. 2026-01-07T10:30:00.000Z. */
  timestamp: string;
  action_type: AuditActionType;
  /** Who acted: 'agent', 'claude_code', 'admin:<id>', 'system'. */
  actor: string;
  /** The object acted on (recipient, message id, config key); null when there is none. */
  target: string | null;
  /** Action parameters; never message bodies (those are represented by `content_hash`). */
  parameters: { [key: string]: JsonValue };
  approval_status: ApprovalStatus;
  /** Who approved ('human', 'admin:<id>', 'policy'), null when nobody had to. */
  approved_by: string | null;
  result: AuditResult;
  /** sha256 hex of the message content the action concerns, or null. */
  content_hash: string | null;
}

export interface AuditRecord extends AuditEntry {
  /** 1 for the first record of a client's log, then +1 per record, across day files. */
  seq: number;
  /** `hash` of the previous record; GENESIS_HASH for seq 1. */
  prev_hash: string;
  /** sha256 hex over the canonical JSON of every other field. */
  hash: string;
}

/** A chain head, checkpointed outside the container so a rewritten or truncated log is detected. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
}


const HEX_64 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Content hash of a message (or any content), so the log proves what was sent without storing it. */
export function contentHash(content: string | Uint8Array): string {
  return sha256Hex(content);
}

/** Hash of a record: sha256 over the canonical JSON of every field except `hash`. */
export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = record;
  return sha256Hex(canonicalJson(rest));
}

/** Builds the next record of the chain after `previous` (null for the first record). */
export function chainRecord(entry: AuditEntry, previous: AuditCheckpoint | null): AuditRecord {
  const unhashed = {
    timestamp: entry.timestamp,
    action_type: entry.action_type,
    actor: entry.actor,
    // An empty target or approver is none: written as null, since the CSV export shows both as an empty
    // cell and an auditor rebuilding the record from it would hash null (docs/audit-export.md).
    target: entry.target === '' ? null : entry.target,
    parameters: entry.parameters,
    approval_status: entry.approval_status,
    approved_by: entry.approved_by === '' ? null : entry.approved_by,
    result: entry.result,
    content_hash: entry.content_hash,
    seq: previous === null ? 1 : previous.seq + 1,
    prev_hash: previous === null ? GENESIS_HASH : previous.hash,
  };
  return { ...unhashed, hash: hashRecord(unhashed) };
}

/** Checks an entry a caller wants to append; returns the problems (empty when valid). */
export function validateAuditEntry(entry: AuditEntry): string[] {
  const problems: string[] = [];
  if (typeof entry.timestamp !== 'string' || !ISO_UTC.test(entry.timestamp) || Number.isNaN(Date.parse(entry.timestamp))) {
    problems.push('timestamp must be a UTC ISO-8601 string ending in Z');
  }
  if (!(AUDIT_ACTION_TYPES as readonly string[]).includes(entry.action_type)) {
    problems.push(`action_type must be one of ${AUDIT_ACTION_TYPES.join(', ')}`);
  }
  if (typeof entry.actor !== 'string' || entry.actor.length === 0 || entry.actor.length > 200) {
    problems.push('actor must be a non-empty string of at most 200 characters');
  }
  if (entry.target !== null && (typeof entry.target !== 'string' || entry.target.length > 2000)) {
    problems.push('target must be null or a string of at most 2000 characters');
  }
  if (entry.parameters === null || typeof entry.parameters !== 'object' || Array.isArray(entry.parameters)) {
    problems.push('parameters must be an object');
  } else {
    try {
      // Nested as in the record whose hash covers it, so a depth the hash cannot take is refused here.
      canonicalJson({ parameters: entry.parameters });
    } catch (error) {
      problems.push(`parameters must be plain JSON (${(error as Error).message})`);
    }
  }
  if (!(APPROVAL_STATUSES as readonly string[]).includes(entry.approval_status)) {
    problems.push(`approval_status must be one of ${APPROVAL_STATUSES.join(', ')}`);
  }
  if (entry.approved_by !== null && (typeof entry.approved_by !== 'string' || entry.approved_by.length > 200)) {
    problems.push('approved_by must be null or a string of at most 200 characters');
  }
  if (!(AUDIT_RESULTS as readonly string[]).includes(entry.result)) {
    problems.push(`result must be one of ${AUDIT_RESULTS.join(', ')}`);
  }
  if (entry.content_hash !== null && (typeof entry.content_hash !== 'string' || !HEX_64.test(entry.content_hash))) {
    problems.push('content_hash must be null or 64 lowercase hex characters (sha256)');
  }
  return problems;
}


/** Parses a decrypted record from storage (untrusted: the file may have been edited). */
export function parseAuditRecord(value: unknown): { ok: true; record: AuditRecord } | { ok: false; problems: string[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problems: ['record must be a JSON object'] };
  }
  const candidate = value as AuditRecord;
  const problems = validateAuditEntry(candidate);
  if (!Number.isSafeInteger(candidate.seq) || candidate.seq < 1) problems.push('seq must be a positive integer');
  if (typeof candidate.prev_hash !== 'string' || !HEX_64.test(candidate.prev_hash)) problems.push('prev_hash must be sha256 hex');
  if (typeof candidate.hash !== 'string' || !HEX_64.test(candidate.hash)) problems.push('hash must be sha256 hex');
  const known = new Set<string>(AUDIT_RECORD_FIELDS);
  for (const key of Object.keys(candidate)) if (!known.has(key)) problems.push(`unknown field "${key}"`);
  return problems.length === 0 ? { ok: true, record: candidate } : { ok: false, problems };
}

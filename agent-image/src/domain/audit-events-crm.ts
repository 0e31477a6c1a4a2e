import type { AuditEvent, SendAuthority } from './audit-events.ts';
import { contentHash, type JsonValue } from './audit-record.ts';

/**
 * The audit events of the agent's CRM work (`crm.read`, `crm.write`), in the spec's log format. The
 * target is the record (`ClientContact/4711`) or, for a lookup, the address looked up; a note's text is
 * represented by its content hash, never stored. Pure.
 */

type Parameters = { [key: string]: JsonValue };

/** A CRM record as the log names it (structurally the port's CrmPersonRef; the domain imports no port). */
export interface CrmRecordRef {
  entity: string;
  id: string;
}

/** A record as one audit target, e.g. `ClientContact/4711`. */
export function crmTarget(record: CrmRecordRef): string {
  return `${record.entity}/${record.id}`.slice(0, 200);
}

/** Which CRM the event concerns, e.g. `bullhorn`. */
export type CrmProviderName = string;

/** A lookup by email for the drafter: who the correspondent is (role, company), or nobody. */
export function crmLookup(input: {
  provider: CrmProviderName;
  address: string;
  found: CrmRecordRef | null;
  result: 'success' | 'failure';
}): AuditEvent {
  return {
    action_type: 'crm_read',
    actor: 'agent',
    target: input.address.slice(0, 320),
    parameters: {
      provider: input.provider,
      operation: 'find_person',
      found: input.found !== null,
      record: input.found === null ? null : crmTarget(input.found),
    },
    approval_status: 'not_required',
    approved_by: null,
    result: input.result,
    content_hash: null,
  };
}

/** A record read (data-minimised fields and recent activity dates), with how much activity came back. */
export function crmRecordRead(input: {
  provider: CrmProviderName;
  person: CrmRecordRef;
  activityCount: number;
  result: 'success' | 'failure';
}): AuditEvent {
  return {
    action_type: 'crm_read',
    actor: 'agent',
    target: crmTarget(input.person),
    parameters: { provider: input.provider, operation: 'get_record', activity_count: input.activityCount },
    approval_status: 'not_required',
    approved_by: null,
    result: input.result,
    content_hash: null,
  };
}

/** Who let a CRM write happen: the gate (`policy`) by default, or the approval the email carried. */
const POLICY: SendAuthority = { actor: 'agent', approvalStatus: 'not_required', approvedBy: 'policy' };

/**
 * A note of an email interaction: `intended` before the provider call, then `success` (with the note id
 * and whether it was new) or `failure`. The note's text is hashed, not logged.
 */
export function crmNoteWritten(input: {
  provider: CrmProviderName;
  person: CrmRecordRef;
  idempotencyKey: string;
  noteText: string;
  result: 'intended' | 'success' | 'failure';
  noteId?: string;
  created?: boolean;
  authority?: SendAuthority;
  /** What the note follows (the send's key, the email type) and, for a failure, why; never content. */
  details?: Parameters;
}): AuditEvent {
  const authority = input.authority ?? POLICY;
  const parameters: Parameters = { ...input.details, provider: input.provider, operation: 'append_note', idempotency_key: input.idempotencyKey };
  if (input.noteId !== undefined) parameters['note_id'] = input.noteId;
  if (input.created !== undefined) parameters['created'] = input.created;
  return {
    action_type: 'crm_write',
    actor: authority.actor,
    target: crmTarget(input.person),
    parameters,
    approval_status: authority.approvalStatus,
    approved_by: authority.approvedBy,
    result: input.result,
    content_hash: contentHash(input.noteText),
  };
}

/**
 * A note owed for a sent email whose recipient's record is not known yet (CRM work paused or backing off,
 * the lookup failed): `pending` when it is owed, `skipped` once the CRM turned out to hold no record of
 * the recipient. The target is the recipient's address until the record is known.
 */
export function crmNoteOwed(input: {
  provider: CrmProviderName;
  recipient: string;
  idempotencyKey: string;
  result: 'pending' | 'skipped';
  details?: Parameters;
  authority?: SendAuthority;
}): AuditEvent {
  const authority = input.authority ?? POLICY;
  return {
    action_type: 'crm_write',
    actor: authority.actor,
    target: input.recipient.slice(0, 320),
    parameters: { ...input.details, provider: input.provider, operation: 'append_note', idempotency_key: input.idempotencyKey },
    approval_status: authority.approvalStatus,
    approved_by: authority.approvedBy,
    result: input.result,
    content_hash: null,
  };
}

/** The last-contact date set (or left, when the record already showed it: `written` false). */
export function crmLastContactUpdated(input: {
  provider: CrmProviderName;
  person: CrmRecordRef;
  at: Date;
  written: boolean | null;
  result: 'success' | 'failure';
  authority?: SendAuthority;
}): AuditEvent {
  const authority = input.authority ?? POLICY;
  return {
    action_type: 'crm_write',
    actor: authority.actor,
    target: crmTarget(input.person),
    parameters: { provider: input.provider, operation: 'update_last_contact', at: input.at.toISOString(), written: input.written },
    approval_status: authority.approvalStatus,
    approved_by: authority.approvedBy,
    result: input.result,
    content_hash: null,
  };
}

/** CRM work paused (a revoked or refused CRM credential) while mail work goes on. */
export function crmPaused(input: { provider: CrmProviderName; reason: string; detail?: string; credential?: string }): AuditEvent {
  const parameters: Parameters = { provider: input.provider, reason: input.reason };
  if (input.detail !== undefined) parameters['detail'] = input.detail.slice(0, 300);
  // A fingerprint (never the value) of the stored credential that was refused: a new one lifts the pause.
  if (input.credential !== undefined) parameters['credential'] = input.credential.slice(0, 64);
  return { action_type: 'pause', actor: 'system', target: 'crm', parameters, approval_status: 'not_required', approved_by: null, result: 'success' };
}

/** CRM work resumed, by an admin (`by`) after reconnecting, or by the system (`by` = 'system'). */
export function crmResumed(input: { provider: CrmProviderName; by: string }): AuditEvent {
  const system = input.by === 'system';
  return {
    action_type: 'resume',
    actor: system ? 'system' : `admin:${input.by}`,
    target: 'crm',
    parameters: { provider: input.provider },
    approval_status: 'not_required',
    approved_by: system ? null : input.by,
    result: 'success',
  };
}

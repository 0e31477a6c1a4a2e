import type { InboundFacts } from './auto-reply/inbound-facts.ts';
import type { ApprovalStatus, AuditActionType, AuditEntry, AuditResult, JsonValue } from './audit-record.ts';

/**
 * Every audit event the agent writes, built in one place: callers say what happened, these builders say
 * how the spec's log format records it (actor, target, approval status, approver, result). Pure.
 */

/** An event to append; the log fills in `timestamp` (now) and `content_hash` (null) when absent. */
export type AuditEvent = Omit<AuditEntry, 'timestamp' | 'content_hash'> & {
  timestamp?: string;
  content_hash?: string | null;
};

type Parameters = { [key: string]: JsonValue };

const TARGET_LIMIT = 2000;

/**
 * The recipients of an action as one audit target (bounded like every target): whole addresses only, and
 * when they do not all fit, the count of the rest at the end (`…, (+3 more)`). Cutting the joined list at
 * the limit instead would record a cut address (`ana@example.co`), another address than the one used.
 */
export function recipientsTarget(addresses: readonly string[]): string {
  return splitRecipients(addresses).target;
}

/**
 * The recipients the target has no room for, so that the record still names every one of them: added to
 * the parameters as `more_recipients` (absent when all fit in the target).
 */
export function withRecipientsBeyondTarget(parameters: Parameters, addresses: readonly string[]): Parameters {
  const { beyond } = splitRecipients(addresses);
  return beyond.length === 0 ? parameters : { ...parameters, more_recipients: beyond };
}

function splitRecipients(addresses: readonly string[]): { target: string; beyond: string[] } {
  const joined = addresses.join(', ');
  if (joined.length <= TARGET_LIMIT) return { target: joined, beyond: [] };
  // Room is kept for the longest count the end can need.
  const room = TARGET_LIMIT - `, ${moreNote(addresses.length)}`.length;
  const fitting: string[] = [];
  let length = 0;
  for (const address of addresses) {
    const added = (fitting.length === 0 ? 0 : 2) + address.length;
    if (length + added > room) break;
    fitting.push(address);
    length += added;
  }
  const beyond = addresses.slice(fitting.length);
  return { target: [...fitting, moreNote(beyond.length)].join(', '), beyond };
}

function moreNote(count: number): string {
  return `(+${count} more)`;
}

/** Who acted, as the log names a client admin. */
export function adminActor(by: string): string {
  return `admin:${by}`;
}

/** Something the agent's own machinery did, with no approval involved. */
function systemEvent(action_type: AuditActionType, target: string | null, parameters: Parameters, result: AuditResult = 'success'): AuditEvent {
  return { action_type, actor: 'system', target, parameters, approval_status: 'not_required', approved_by: null, result };
}

// ── configuration and lifecycle ──────────────────────────────────────────────

export function configChanged(input: { configHash: string; previousHash: string | null; dryRun: boolean }): AuditEvent {
  return systemEvent('config_change', 'client-config', {
    config_hash: input.configHash,
    previous_hash: input.previousHash,
    dry_run: input.dryRun,
  });
}

/** What a pause stops: all work (`agent`), sending only (`sending`), or the outbox after an auth failure. */
export type PauseScope = 'agent' | 'sending' | 'outbox';

export function paused(scope: PauseScope, parameters: { reason: string; detail?: string }): AuditEvent {
  const { reason, detail } = parameters;
  return systemEvent('pause', scope, detail === undefined ? { reason } : { reason, detail: detail.slice(0, 300) });
}

/** A pause lifted by `by` ('system' when the agent lifts it itself, e.g. a rate window with room). */
export function resumed(scope: 'agent' | 'sending', by: string, parameters: Parameters): AuditEvent {
  const system = by === 'system';
  return {
    action_type: 'resume',
    actor: system ? 'system' : adminActor(by),
    target: scope,
    parameters,
    approval_status: 'not_required',
    approved_by: system ? null : by,
    result: 'success',
  };
}

/** The outbox's authentication pause lifted by whoever resumed the agent. */
export function outboxResumed(by: string): AuditEvent {
  return { action_type: 'resume', actor: by, target: 'outbox', parameters: {}, approval_status: 'not_required', approved_by: null, result: 'success' };
}

/** An admin pulling (kill) or releasing (revive) the kill switch. */
export function killSwitch(action: 'kill' | 'revive', input: { by: string; reason: string }): AuditEvent {
  return {
    action_type: action,
    actor: adminActor(input.by),
    target: 'agent',
    parameters: { reason: input.reason.slice(0, 500) },
    approval_status: 'not_required',
    approved_by: input.by,
    result: 'success',
  };
}

/** A credential refused: the secret store's token, or the mailbox provider's. */
export function authFailure(target: string, parameters: Parameters): AuditEvent {
  return systemEvent('auth_failure', target, parameters, 'failure');
}

// ── reading and drafting ─────────────────────────────────────────────────────

/** The sender verdict and injection signals of an inbound message, as its read and draft records carry them. */
export function inboundParameters(facts: InboundFacts, withSender = true): Parameters {
  return {
    ...(withSender ? { sender: facts.sender } : {}),
    sender_authenticated: facts.senderAuthenticated,
    sender_auth_reason: facts.authReason,
    known_contact: facts.knownContact,
    injection_signals: [...facts.injectionSignals],
  };
}

export function emailRead(input: { messageId: string; parameters: Parameters; contentHash: string; inbound?: InboundFacts }): AuditEvent {
  return {
    action_type: 'email_read',
    actor: 'agent',
    target: input.messageId,
    parameters: input.inbound === undefined ? input.parameters : { ...input.parameters, ...inboundParameters(input.inbound) },
    approval_status: 'not_required',
    approved_by: null,
    result: 'success',
    content_hash: input.contentHash,
  };
}

/** A model call with its token counts and cost; `result` failure when its output was unusable. */
export function llmCall(messageId: string, parameters: Parameters, result: 'success' | 'failure'): AuditEvent {
  return { action_type: 'llm_call', actor: 'agent', target: messageId, parameters, approval_status: 'not_required', approved_by: null, result };
}

/** A message parked for a human (malformed model output, unusable draft, low confidence). */
export function reviewQueued(messageId: string, reason: string, parameters: Parameters = {}): AuditEvent {
  return {
    action_type: 'review_queued',
    actor: 'agent',
    target: messageId,
    parameters: { message_id: messageId, reason, ...parameters },
    approval_status: 'pending',
    approved_by: null,
    result: 'pending',
  };
}

/** How a parked message left the review queue: a human dealt with it, let the agent try again, or it overflowed. */
export type ReviewResolution = 'handled' | 'retry' | 'overflow';

/**
 * A message leaving the review queue. `handled`: a human dealt with it in the mailbox; `retry`: a human let
 * the agent process it again (once); `overflow`: the queue was full and this, its oldest entry, was taken
 * out unseen (recorded as expired, like an approval nobody decided). Ids and reasons only, no content.
 */
export function reviewResolved(input: {
  messageId: string;
  resolution: ReviewResolution;
  /** Why it was parked. */
  reason: string;
  /** The admin; absent for an overflow (the agent's own bookkeeping). */
  by?: string;
  via?: 'orchestrator-api' | 'portal';
  /** The reason of an earlier park, when this message had been tried again already. */
  retriedFrom?: string;
  limit?: number;
}): AuditEvent {
  const parameters: Parameters = { message_id: input.messageId, resolution: input.resolution, reason: input.reason };
  if (input.via !== undefined) parameters['via'] = input.via;
  if (input.retriedFrom !== undefined) parameters['retried_from'] = input.retriedFrom;
  if (input.limit !== undefined) parameters['limit'] = input.limit;
  if (input.by === undefined) {
    return { action_type: 'review_resolved', actor: 'system', target: input.messageId, parameters, approval_status: 'expired', approved_by: null, result: 'skipped' };
  }
  const retry = input.resolution === 'retry';
  return {
    action_type: 'review_resolved',
    actor: adminActor(input.by),
    target: input.messageId,
    parameters,
    approval_status: retry ? 'approved' : 'not_required',
    approved_by: retry ? adminActor(input.by) : null,
    result: 'success',
  };
}

/**
 * A draft the gate allowed: `intended` before the provider call, `success` after it; with the facts of
 * the message it answers (the target is its sender).
 */
export function draftWritten(input: {
  to: string;
  parameters: Parameters;
  contentHash: string;
  result: 'intended' | 'success';
  inbound?: InboundFacts;
}): AuditEvent {
  return {
    action_type: 'email_draft',
    actor: 'agent',
    target: input.to,
    parameters: input.inbound === undefined ? input.parameters : { ...input.parameters, ...inboundParameters(input.inbound, false) },
    approval_status: 'not_required',
    approved_by: 'policy',
    result: input.result,
    content_hash: input.contentHash,
  };
}

/**
 * An action the gate did not allow: in dry run recorded as the action itself with result `dry_run`,
 * otherwise as `policy_denied`.
 */
export function gateRefused(input: {
  action: AuditActionType;
  dryRun: boolean;
  target: string | null;
  parameters: Parameters;
  contentHash?: string | null;
}): AuditEvent {
  return {
    action_type: input.dryRun ? input.action : 'policy_denied',
    actor: 'agent',
    target: input.target,
    parameters: input.parameters,
    approval_status: input.dryRun ? 'not_required' : 'denied',
    approved_by: null,
    result: input.dryRun ? 'dry_run' : 'denied',
    ...(input.contentHash === undefined ? {} : { content_hash: input.contentHash }),
  };
}

/** A filing write (label, mark read, archive) the gate allowed, with its outcome. */
export function filed(input: { action: 'email_label' | 'email_move'; messageId: string; parameters: Parameters; result: 'success' | 'failure' }): AuditEvent {
  return {
    action_type: input.action,
    actor: 'agent',
    target: input.messageId,
    parameters: input.parameters,
    approval_status: 'not_required',
    approved_by: 'policy',
    result: input.result,
    content_hash: null,
  };
}

/** The client's free/busy read for drafting (no event content is ever read). */
export function calendarRead(parameters: Parameters, result: 'success' | 'failure'): AuditEvent {
  return { action_type: 'calendar_read', actor: 'agent', target: 'free/busy', parameters, approval_status: 'not_required', approved_by: null, result, content_hash: null };
}

/** A push watch created, renewed or stopped, or the attempt that failed. */
export function mailWatch(action: 'mail_watch' | 'mail_watch_renew' | 'mail_unwatch', target: string, parameters: Parameters, result: 'success' | 'failure'): AuditEvent {
  return systemEvent(action, target, parameters, result);
}

// ── approvals ────────────────────────────────────────────────────────────────

export function approvalRequested(input: { to: readonly string[]; parameters: Parameters }): AuditEvent {
  return {
    action_type: 'approval_requested',
    actor: 'agent',
    target: recipientsTarget(input.to),
    parameters: withRecipientsBeyondTarget(input.parameters, input.to),
    approval_status: 'pending',
    approved_by: null,
    result: 'pending',
  };
}

export function approvalDecided(input: { by: string; to: readonly string[]; status: 'approved' | 'edited' | 'rejected'; parameters: Parameters }): AuditEvent {
  return {
    action_type: 'approval_decided',
    actor: adminActor(input.by),
    target: recipientsTarget(input.to),
    parameters: withRecipientsBeyondTarget(input.parameters, input.to),
    approval_status: input.status,
    approved_by: input.status === 'rejected' ? null : adminActor(input.by),
    result: 'success',
  };
}

/** A timeout is "expired", never "approved": recorded, never executed. */
export function approvalExpired(input: { to: readonly string[]; approvalId: string; expiresAt: string; idempotencyKey: string }): AuditEvent {
  return {
    action_type: 'approval_expired',
    actor: 'system',
    target: recipientsTarget(input.to),
    parameters: withRecipientsBeyondTarget({ approval_id: input.approvalId, expires_at: input.expiresAt, idempotency_key: input.idempotencyKey }, input.to),
    approval_status: 'expired',
    approved_by: null,
    result: 'skipped',
  };
}

// ── sending ──────────────────────────────────────────────────────────────────

/** Who decided a send may go and how: carried from the outbox intent to every outcome record. */
export interface SendAuthority {
  actor: string;
  approvalStatus: ApprovalStatus;
  approvedBy: string | null;
}

/** A send's intent (written before the provider call) or outcome, and the records held sends get. */
export function sendRecord(input: {
  action: 'email_send' | 'quarantine' | 'review_queued' | 'auth_failure';
  authority: SendAuthority;
  recipients: readonly string[];
  parameters: Parameters;
  result: 'intended' | 'success' | 'failure';
  contentHash: string;
}): AuditEvent {
  return {
    action_type: input.action,
    actor: input.authority.actor,
    target: recipientsTarget(input.recipients),
    parameters: withRecipientsBeyondTarget(input.parameters, input.recipients),
    approval_status: input.authority.approvalStatus,
    approved_by: input.authority.approvedBy,
    result: input.result,
    content_hash: input.contentHash,
  };
}

/** A held send (quarantined or in review) released by a human. */
export function sendReleased(input: { by: string; idempotencyKey: string; was: string; contentHash: string }): AuditEvent {
  return {
    action_type: 'send_released',
    actor: input.by,
    target: input.idempotencyKey,
    parameters: { idempotency_key: input.idempotencyKey, was: input.was },
    approval_status: 'approved',
    approved_by: input.by,
    result: 'success',
    content_hash: input.contentHash,
  };
}

/**
 * A send that was waiting when the kill switch was pulled, taken out of the outbox at the revive: it goes
 * only if a human approves it again (the approval that asks carries the same idempotency key).
 */
export function sendWithdrawn(input: { by: string; idempotencyKey: string; contentHash: string }): AuditEvent {
  return {
    action_type: 'send_withdrawn',
    actor: input.by,
    target: input.idempotencyKey,
    parameters: { idempotency_key: input.idempotencyKey },
    approval_status: 'pending',
    approved_by: null,
    result: 'success',
    content_hash: input.contentHash,
  };
}

/** A withdrawn send that will never go as it was: rejected, expired, or replaced by what a human approved. */
export function sendDiscarded(input: { by: string; idempotencyKey: string; contentHash: string; why: 'rejected' | 'expired' | 'replaced' }): AuditEvent {
  return {
    action_type: 'send_discarded',
    actor: input.by,
    target: input.idempotencyKey,
    parameters: { idempotency_key: input.idempotencyKey, why: input.why },
    approval_status: input.why === 'replaced' ? 'approved' : input.why,
    approved_by: input.why === 'expired' ? null : input.by,
    result: 'success',
    content_hash: input.contentHash,
  };
}

/** A notice to the client's admins that could not be sent (dry run, no admins, sending not granted). */
export function adminMailSkipped(input: { admins: readonly string[]; parameters: Parameters; dryRun: boolean }): AuditEvent {
  return systemEvent('email_send', recipientsTarget(input.admins) || null, withRecipientsBeyondTarget(input.parameters, input.admins), input.dryRun ? 'dry_run' : 'skipped');
}

import { recipientsTarget, withRecipientsBeyondTarget, type AuditEvent, type SendAuthority } from './audit-events.ts';
import type { JsonValue } from './audit-record.ts';

/**
 * The audit events of calendar writes (`calendar.write`): an event created with invitations to its
 * attendees is outbound, so its record names them as the target, like a send's. Pure.
 */

type Parameters = { [key: string]: JsonValue };

/** Who let the write happen: the gate (`policy`) by default, or the approval it rode on. */
const POLICY: SendAuthority = { actor: 'agent', approvalStatus: 'auto_approved', approvedBy: 'policy' };

/**
 * A calendar event write: `intended` before the provider call, then `success` (with the event id and
 * whether it was found from an earlier attempt rather than created now) or `failure`.
 */
export function calendarEventWritten(input: {
  operation: 'create' | 'update' | 'cancel';
  idempotencyKey: string;
  attendees: readonly string[];
  parameters: Parameters;
  result: 'intended' | 'success' | 'failure';
  eventId?: string;
  /** True when the event already existed (a retry after a crash): nothing new was sent. */
  existing?: boolean;
  authority?: SendAuthority;
}): AuditEvent {
  const authority = input.authority ?? POLICY;
  const parameters: Parameters = { operation: input.operation, idempotency_key: input.idempotencyKey, ...input.parameters };
  if (input.eventId !== undefined) parameters['event_id'] = input.eventId;
  if (input.existing !== undefined) parameters['existing'] = input.existing;
  return {
    action_type: 'calendar_write',
    actor: authority.actor,
    target: recipientsTarget(input.attendees),
    parameters: withRecipientsBeyondTarget(parameters, input.attendees),
    approval_status: authority.approvalStatus,
    approved_by: authority.approvedBy,
    result: input.result,
    content_hash: null,
  };
}

/**
 * An update or cancel of an existing event: `intended` before the provider call, then `success` (with
 * `existing` when it had been done before: a retry after a crash, or an event already cancelled) or
 * `failure` (with the reason, e.g. someone else organised it). The target is the attendees the change
 * invites, else the event itself; a cancel notifies the invited but reaches no one new.
 */
export function calendarEventChanged(input: {
  operation: 'update' | 'cancel';
  idempotencyKey: string;
  eventId: string;
  /** Attendees the update adds (each receives an invitation); none for a cancel. */
  addedAttendees: readonly string[];
  parameters: Parameters;
  result: 'intended' | 'success' | 'failure';
  existing?: boolean;
  authority?: SendAuthority;
}): AuditEvent {
  const authority = input.authority ?? POLICY;
  const parameters: Parameters = { operation: input.operation, idempotency_key: input.idempotencyKey, ...input.parameters, event_id: input.eventId };
  if (input.existing !== undefined) parameters['existing'] = input.existing;
  return {
    action_type: 'calendar_write',
    actor: authority.actor,
    target: input.addedAttendees.length > 0 ? recipientsTarget(input.addedAttendees) : recipientsTarget([`calendar_event:${input.eventId}`]),
    parameters: withRecipientsBeyondTarget(parameters, input.addedAttendees),
    approval_status: authority.approvalStatus,
    approved_by: authority.approvedBy,
    result: input.result,
    content_hash: null,
  };
}

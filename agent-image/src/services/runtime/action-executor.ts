import { companionApproval, type ApprovalRecord } from '../../domain/approval.ts';
import { crmLastContactUpdated, crmNoteWritten } from '../../domain/audit-events-crm.ts';
import type { AutoSendContext } from '../../domain/policy/auto-send-rules.ts';
import { bundleDecision } from '../../domain/policy/bundle-decision.ts';
import type { PolicyDecision } from '../../domain/policy/decision.ts';
import { parseProposedAction, type ProposedAction } from '../../domain/policy/proposed-action.ts';
import { CRM_ENTITIES, type CrmEntity } from '../../ports/crm-provider.ts';
import { askAgainHeld } from './approval-request.ts';
import type { ApprovalExecution, StoredApproval } from './approval-store.ts';
import { editEventOnce } from './calendar-edits.ts';
import { createEventOnce, type CalendarWrite } from './calendar-writes.ts';
import type { RuntimeContext } from './runtime-context.ts';
import { authorityOf, executeSend, refuseActions, type ActionLinks, type SendContext } from './send-execution.ts';

type CrmWrite = Extract<ProposedAction, { kind: 'crm.write' }>;
type MailWrite = Extract<ProposedAction, { kind: 'mail.move' | 'mail.delete' }>;

/**
 * Runs an approved (or edited) record, whatever its kind: the gate runs again with the approval attached
 * (it checks that what runs hashes to what the human approved, and still applies the kill switch, the
 * permissions, dry run, the pause and the rate limits), then the action runs on its provider: a send
 * through the outbox with the event and CRM note that go with it, a calendar event, a mail move, a CRM
 * write. Idempotent per record: each run repeats nothing already done. Returns the record's execution.
 */
/** Holds a send again for a human (the approval did not cover a hold the current settings add). */
export type Rehold = (action: Extract<ProposedAction, { kind: 'mail.send' }>, send: SendContext, decision: PolicyDecision, event: CalendarWrite | undefined) => Promise<unknown>;

export async function executeApproval(context: RuntimeContext, links: ActionLinks, entry: StoredApproval, rehold?: Rehold): Promise<ApprovalExecution> {
  const parsed = parseProposedAction(entry.record.approvedArguments);
  const finish = async (execution: ApprovalExecution): Promise<ApprovalExecution> => {
    await context.approvals.put({ ...entry, execution });
    return execution;
  };
  if (!parsed.ok) return finish('blocked');
  const action = parsed.action;
  const autoSend = autoSendOfPreview(entry);
  const send: SendContext = { key: entry.idempotencyKey, messageId: entry.messageId, draftId: entry.draftId, ...(autoSend === undefined ? {} : { autoSend }) };
  // Checked under the settings in force now, not those the approval was granted under; a recipient blocked
  // now is covered only if its approver was shown it blocked (recorded with the approval; on older records,
  // known only while those are the same settings).
  const applied = context.settings.current();
  const coverage = {
    approvalSettingsChanged: entry.settingsVersion !== applied.version,
    ...(entry.blockedRecipients === undefined ? {} : { approvalBlocked: entry.blockedRecipients }),
  };
  const gate = (candidate: ProposedAction, approval: ApprovalRecord | undefined): PolicyDecision => {
    const decision = applied.gate.evaluateParsed(candidate, context.policyState(), context.now(), {
      ...(approval === undefined ? {} : { approval, ...coverage }),
      autoSend,
    });
    context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
    return decision;
  };
  const companions = companionsOf(entry.record);
  if (companions === null) return finish('blocked');
  const decision: PolicyDecision = {
    ...bundleDecision(
      gate(action, entry.record),
      companions.map((companion) => gate(companion.action, companion.approval)),
    ),
    settingsVersion: applied.version,
  };
  const actions = [action, ...companions.map((companion) => companion.action)];
  if (decision.decision === 'needs_approval' && action.kind === 'mail.send' && rehold !== undefined) {
    await rehold(action, send, decision, companions[0]?.action);
    return finish('blocked');
  }
  if (decision.decision === 'needs_approval' && action.kind === 'calendar.write' && action.operation === 'create') {
    if (!(await askAgainHeld(context, entry, decision))) await refuseActions({ context, actions, send, decision, approvalId: entry.record.id });
    return finish('blocked');
  }
  // An update or cancel the gate holds runs on to the edit, which reads who the change notifies and has the
  // gate decide again with all of them before anything is written: a hold there is a new approval showing
  // them all (calendar-notices.ts), not a refusal.
  const editDecidedAgain = decision.decision === 'needs_approval' && action.kind === 'calendar.write';
  if (decision.decision !== 'allow' && !editDecidedAgain) {
    const refused = await refuseActions({ context, actions, send, decision, approvalId: entry.record.id });
    return finish(refused === 'waiting' ? 'waiting' : 'blocked');
  }
  const authority = authorityOf(entry);
  const parameters = { approval_id: entry.record.id, message_id: entry.messageId };
  switch (action.kind) {
    case 'mail.send': {
      const event = companions[0]?.action;
      const outcome = await executeSend({ context, links, action, send, decision, approval: entry, event });
      return finish(outcome === 'waiting' ? 'waiting' : 'done');
    }
    case 'calendar.write': {
      const write = { context, calendar: links.calendar, action, key: entry.idempotencyKey, authority, parameters };
      const outcome = action.operation === 'create' ? await createEventOnce(write) : await editEventOnce({ ...write, since: new Date(entry.record.createdAt), approval: entry });
      return finish(outcome === 'failed' ? 'blocked' : outcome);
    }
    case 'mail.move':
    case 'mail.delete':
      return finish(await runMailWrite(context, links, action, entry));
    case 'crm.write':
      return finish(await runCrmWrite(context, links, action, entry));
    default:
      await refuseActions({ context, actions: [action], send, decision: { decision: 'deny', reasons: ['unparseable'], details: [`${action.kind} is not run from an approval`] } });
      return finish('blocked');
  }
}

/** The companions of a record as actions with the approval that covers each; null when one is unusable. */
function companionsOf(record: ApprovalRecord): { action: CalendarWrite; approval: ApprovalRecord | undefined }[] | null {
  const result: { action: CalendarWrite; approval: ApprovalRecord | undefined }[] = [];
  for (const [index, companion] of (record.companions ?? []).entries()) {
    const parsed = parseProposedAction(companion.arguments);
    if (!parsed.ok || parsed.action.kind !== 'calendar.write') return null;
    result.push({ action: parsed.action, approval: companionApproval(record, index) });
  }
  return result;
}

/** Archiving is the one mail move the providers offer the agent; a deletion is never run. */
async function runMailWrite(context: RuntimeContext, links: ActionLinks, action: MailWrite, entry: StoredApproval): Promise<ApprovalExecution> {
  if (action.kind === 'mail.delete' || action.destination.trim().toLowerCase() !== 'archive') {
    context.logger.warn('an approved mail write the agent cannot run', { kind: action.kind, approvalId: entry.record.id });
    return 'blocked';
  }
  if (links.mail === null) return 'waiting';
  for (const id of action.messageIds) {
    context.kill.assertAlive('mail move');
    await links.mail.archive(id);
  }
  return 'done';
}

/** An approved note or last-contact date for a CRM record (`fields.note` / `fields.lastContactAt`); nothing that deletes. */
async function runCrmWrite(context: RuntimeContext, links: ActionLinks, action: CrmWrite, entry: StoredApproval): Promise<ApprovalExecution> {
  const crm = links.crm;
  const entity = action.recordType as CrmEntity;
  if (action.operation !== 'update' || action.recordId === undefined || !(CRM_ENTITIES as readonly string[]).includes(entity)) return 'blocked';
  if (crm === null || crm.work.idle) return 'waiting';
  const person = { entity, id: action.recordId };
  const authority = authorityOf(entry);
  const note = noteFields(action.fields?.['note']);
  if (note !== null) {
    const base = { provider: crm.work.name, person, idempotencyKey: note.idempotencyKey, noteText: note.summary, authority, details: { approval_id: entry.record.id } };
    await context.audit.append(crmNoteWritten({ ...base, result: 'intended' }));
    const written = await crm.work.attempt('note', (provider) => provider.appendInteractionNote({ person, direction: 'outbound', ...note }));
    await context.audit.append(
      written.ok ? crmNoteWritten({ ...base, result: 'success', noteId: written.value.id, created: written.value.created }) : crmNoteWritten({ ...base, result: 'failure' }),
    );
    if (!written.ok) return crm.work.idle ? 'waiting' : 'blocked';
  }
  const at = typeof action.fields?.['lastContactAt'] === 'string' ? new Date(action.fields['lastContactAt']) : null;
  if (at !== null && !Number.isNaN(at.getTime())) {
    const updated = await crm.work.attempt('last contact', (provider) => provider.updateLastContact(person, at));
    await context.audit.append(
      crmLastContactUpdated({ provider: crm.work.name, person, at, written: updated.ok ? updated.value.written : null, result: updated.ok ? 'success' : 'failure', authority }),
    );
    if (!updated.ok) return crm.work.idle ? 'waiting' : 'blocked';
  }
  return 'done';
}

function noteFields(value: unknown): { subject: string; summary: string; occurredAt: Date; idempotencyKey: string } | null {
  if (typeof value !== 'object' || value === null) return null;
  const { subject, summary, occurredAt, idempotencyKey } = value as Record<string, unknown>;
  if (typeof subject !== 'string' || typeof summary !== 'string' || typeof occurredAt !== 'string' || typeof idempotencyKey !== 'string') return null;
  return { subject, summary, occurredAt: new Date(occurredAt), idempotencyKey };
}

/** The facts an approval was requested on, for the gate when it runs (an approval covers the auto-send rules). */
export function autoSendOfPreview(entry: StoredApproval): AutoSendContext | undefined {
  const inbound = entry.preview.inbound;
  if (inbound === undefined) return undefined;
  return {
    inbound: {
      senderAddress: inbound.sender,
      senderAuthenticated: inbound.senderAuthenticated,
      injectionSignals: inbound.injectionSignals as AutoSendContext['inbound']['injectionSignals'],
      // The facts are of the message the approval answers: the gate counts them only for a send replying to it.
      ...(entry.messageId === null ? {} : { messageId: entry.messageId }),
    },
  };
}

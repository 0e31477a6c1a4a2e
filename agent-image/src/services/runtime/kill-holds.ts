import { parseProposedAction } from '../../domain/policy/proposed-action.ts';
import { autoSendContext } from '../mail-loop/propose-send.ts';
import type { OutboxEntry } from '../outbox/outbox.ts';
import { autoSendOfPreview } from './action-executor.ts';
import { approvalRecordFor, newApprovalId, requestApproval } from './approval-request.ts';
import type { StoredApproval } from './approval-store.ts';
import type { CalendarWrite } from './calendar-writes.ts';
import type { RuntimeContext } from './runtime-context.ts';
import { HELD_BY_KILL, type MailSend, type SendContext } from './send-execution.ts';
import type { SendPipeline } from './send-pipeline.ts';

/** What a revive held for a human. */
export interface KillHoldReport {
  /** Approved actions that had not run yet, asked again. */
  reapproval: number;
  /** Sends taken out of the outbox before they went. */
  withdrawn: number;
  /** Replies the loop kept waiting, marked to need an approval. */
  waitingReplies: number;
  /** Withdrawn sends that could not be put as an approval (never sent; they stay withdrawn). */
  unaskable: number;
}

/**
 * Nothing the kill switch stopped goes out on its own after the revive. An admin pulls the switch because
 * something is wrong, often with what the agent was about to send, so what was on its way out then waits
 * for a human's fresh decision on the approval page:
 * - approved actions that had not run yet (a send paused or rate-limited, a calendar change, a CRM write):
 *   asked again, the old approval superseded;
 * - the agent's sends in the outbox that had not gone (the gate's own, or approved ones the provider had
 *   not taken): withdrawn, each with an approval that asks about exactly that message (approved: it goes
 *   under the same key, after asking the provider whether it already went; rejected or expired: discarded);
 * - replies the loop kept while the gate said wait: marked, so that the gate's allow becomes an approval.
 * Runs before the kill switch is released (nothing can send meanwhile); a revive cut short leaves the
 * switch engaged, and the next revive finishes the holds (each step skips what is already held). The
 * agent's own mail to the client's admins (notices, summaries) is not held.
 */
export async function holdWhatTheKillStopped(context: RuntimeContext, pipeline: SendPipeline, by: string): Promise<KillHoldReport> {
  const report: KillHoldReport = { reapproval: 0, withdrawn: 0, waitingReplies: 0, unaskable: 0 };
  for (const entry of context.approvals.waitingExecution()) {
    if (!hasHeldApproval(context, entry.idempotencyKey)) {
      const action = mailSendOf(entry.record.approvedArguments);
      if (action === null) {
        if (!(await askAgain(context, entry))) continue;
      } else {
        const autoSend = autoSendOfPreview(entry);
        const send: SendContext = { key: entry.idempotencyKey, messageId: entry.messageId, draftId: entry.draftId, ...(autoSend === undefined ? {} : { autoSend }) };
        await pipeline.holdAfterKill(action, send, companionEvent(entry), entry.record.id);
      }
      report.reapproval++;
    }
    await context.approvals.put({ ...entry, execution: 'blocked' });
  }
  for (const entry of context.outbox.list('pending')) {
    if (entry.actor !== 'agent') continue;
    await context.outbox.withdraw(entry.idempotencyKey, by);
    report.withdrawn++;
  }
  for (const entry of context.outbox.list('withdrawn')) {
    if (hasHeldApproval(context, entry.idempotencyKey)) continue;
    if (!(await askAboutWithdrawn(context, pipeline, entry))) report.unaskable++;
  }
  for (const { id, progress } of context.state.unfinished()) {
    if (progress.stage !== 'waiting_send' || progress.heldByKill === true) continue;
    await context.state.setProgress(id, { ...progress, heldByKill: true });
    report.waitingReplies++;
  }
  if (report.reapproval + report.withdrawn + report.waitingReplies + report.unaskable > 0) {
    context.logger.warn('revive: what the kill switch stopped waits for a human', { ...report });
  }
  return report;
}

/** An approval asking about exactly the withdrawn message; false when it cannot be put as one. */
async function askAboutWithdrawn(context: RuntimeContext, pipeline: SendPipeline, entry: OutboxEntry): Promise<boolean> {
  const found = context.state.messageWithKey(entry.idempotencyKey);
  const { message } = entry;
  const action = mailSendOf({
    kind: 'mail.send',
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    subject: message.subject,
    body: message.text,
    ...(found?.progress.emailType === undefined ? {} : { emailType: found.progress.emailType }),
  });
  if (action === null || message.html !== null) {
    context.logger.warn('revive: a withdrawn send cannot be put as an approval; it stays withdrawn, never sent', { idempotencyKey: entry.idempotencyKey });
    return false;
  }
  const autoSend = found === undefined ? undefined : autoSendContext(found.progress, found.id);
  await pipeline.holdAfterKill(action, {
    key: entry.idempotencyKey,
    messageId: found?.id ?? null,
    draftId: found?.progress.draftId ?? null,
    ...(autoSend === undefined ? {} : { autoSend }),
  }, undefined);
  return true;
}

/**
 * An approved change other than a send (a calendar event's, a CRM write, a mail move) asked about again:
 * the same approved arguments and what goes with them, on a new approval superseding the old one. False
 * when its arguments no longer make an approval (the old one is then left to run as the gate decides).
 */
async function askAgain(context: RuntimeContext, entry: StoredApproval): Promise<boolean> {
  const created = approvalRecordFor(context, {
    id: newApprovalId(),
    actionKind: entry.record.actionKind,
    arguments: entry.record.approvedArguments,
    ...(entry.record.companions === undefined ? {} : { companions: entry.record.companions.map((companion) => companion.arguments) }),
    policyReasons: [HELD_BY_KILL],
  });
  if (!created.ok) return false;
  const { record } = created;
  await requestApproval(context, { ...entry, record }, {
    to: entry.preview.to,
    parameters: {
      approval_id: record.id,
      idempotency_key: entry.idempotencyKey,
      kind: record.actionKind,
      reasons: [HELD_BY_KILL],
      expires_at: record.expiresAt,
      arguments_hash: record.proposedHash,
      supersedes: entry.record.id,
    },
  });
  return true;
}

/** True when a revive already asked about this key and nobody has decided yet. */
function hasHeldApproval(context: RuntimeContext, key: string): boolean {
  return context.approvals
    .list(context.now(), 'pending')
    .some((approval) => approval.idempotencyKey === key && approval.record.policyReasons.includes(HELD_BY_KILL));
}

function mailSendOf(value: unknown): MailSend | null {
  const parsed = parseProposedAction(value);
  return parsed.ok && parsed.action.kind === 'mail.send' ? parsed.action : null;
}

/** The calendar event approved with a send (a scheduling confirmation's), to be asked about with it. */
function companionEvent(entry: StoredApproval): CalendarWrite | undefined {
  const companion = entry.record.companions?.[0];
  if (companion === undefined) return undefined;
  const parsed = parseProposedAction(companion.arguments);
  return parsed.ok && parsed.action.kind === 'calendar.write' ? parsed.action : undefined;
}

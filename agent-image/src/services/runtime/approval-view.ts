import type { ApprovalDecision, ApprovalStatus, JsonValue } from '../../domain/approval.ts';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { MailMessage, MailProvider } from '../../ports/mail-provider.ts';
import type { MessageProgress } from './agent-state-store.ts';
import type { ApprovalExecution, StoredApproval } from './approval-store.ts';

/** A message of the thread the draft answers, minimised to what an admin needs to judge the draft. */
export interface ThreadEntry {
  from: string;
  /** ISO 8601. */
  at: string;
  subject: string;
  body: string;
  /** True when someone other than the client's mailbox wrote it: untrusted content. */
  fromCorrespondent: boolean;
}

/** One approval as the client's admins see it (`GET /v1/approvals/:id`): the whole draft and its context. */
export interface ApprovalView {
  id: string;
  status: ApprovalStatus;
  action: string;
  reasons: readonly string[];
  /** Injection signals established when the answered message was read (code, not the model). */
  signals: string[];
  /** What code established about the sender of the answered message; null when none is known. */
  sender: { address: string; authenticated: boolean; knownContact: boolean | null } | null;
  createdAt: string;
  expiresAt: string;
  decision: ApprovalDecision | null;
  execution: ApprovalExecution;
  proposedHash: string;
  approvedHash: string | null;
  /** The whole draft: the approved (edited) version once decided, else the proposal. */
  draft: { to: string[]; cc: string[]; bcc: string[]; subject: string; body: string } | null;
  arguments: JsonValue;
  thread: ThreadEntry[];
  /** False when the thread could not be read (no mailbox connected, provider error). */
  threadAvailable: boolean;
  /**
   * The calendar event approved together with the email (a scheduling confirmation's), if any; for an
   * update or cancel of an event held when it was about to run, the event as it will be and, as its
   * attendees, everyone the provider notifies of the change (calendar-notices.ts).
   */
  event: { title: string; start: string; end: string | null; timeZone: string; attendees: string[] } | null;
  /**
   * The recipients the client's block list matched when the approval was asked (StoredApproval
   * .blockedRecipients): approving sends to them anyway, so the approver is told which they are. [] when none
   * was blocked; null on approvals made before they were kept (nothing is said of them).
   */
  blockedRecipients: string[] | null;
}

const THREAD_MESSAGES = 10;
const THREAD_BODY_CHARS = 4000;

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function draftOf(action: string, args: JsonValue): ApprovalView['draft'] {
  if ((action !== 'mail.send' && action !== 'mail.draft') || typeof args !== 'object' || args === null || Array.isArray(args)) return null;
  return {
    to: strings(args['to']),
    cc: strings(args['cc']),
    bcc: strings(args['bcc']),
    subject: typeof args['subject'] === 'string' ? args['subject'] : '',
    body: typeof args['body'] === 'string' ? args['body'] : '',
  };
}

/**
 * Whether a thread message is the client's own, as the portal labels it "From your mailbox": From the
 * mailbox's address and, where the provider marks the mailbox's own sends (Gmail's SENT label, which no
 * sender can set), carrying that mark; anyone can write the client's address as From. A message with no
 * sender (one the adapter could not read) is never the client's. Pure.
 */
function isOwn(message: MailMessage, mailbox: string | undefined, sentMark: string | null): boolean {
  const from = message.from?.address ?? '';
  if (mailbox === undefined || from === '' || from.toLowerCase() !== mailbox.toLowerCase()) return false;
  return sentMark === null || message.labels.includes(sentMark);
}

function minimised(message: MailMessage, mailbox: string | undefined, sentMark: string | null): ThreadEntry {
  const from = message.from?.address ?? '';
  const body = message.textBody.length > THREAD_BODY_CHARS ? `${message.textBody.slice(0, THREAD_BODY_CHARS)}…` : message.textBody;
  return {
    from,
    at: (message.date ?? message.receivedAt).toISOString(),
    subject: message.subject,
    body,
    fromCorrespondent: !isOwn(message, mailbox, sentMark),
  };
}

/** The thread the draft answers, oldest first, at most the last ten messages; [] with `available: false` when unreadable. */
export async function threadOf(
  provider: MailProvider | null,
  messageId: string | null,
  mailbox: string | undefined,
  /** The provider's mark on the mailbox's own sends ('SENT' on Gmail); null where it has none (Graph). */
  sentMark: string | null,
  logger: Logger,
  /** Runs the reads as one download of the agent's memory for mail (MailMemoryBudget.download): one at a time with the mail loop's. */
  download: <T>(read: () => Promise<T>) => Promise<T> = (read) => read(),
): Promise<{ thread: ThreadEntry[]; available: boolean }> {
  if (messageId === null) return { thread: [], available: true };
  if (provider === null) return { thread: [], available: false };
  try {
    const thread = await download(async () => {
      const answered = await provider.getMessage(messageId);
      const messages = await provider.getThread(answered.threadId);
      // In the order the provider received them: the Date header is the sender's to write.
      const ordered = (messages.length > 0 ? messages : [answered]).sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
      return ordered.slice(-THREAD_MESSAGES).map((message) => minimised(message, mailbox, sentMark));
    });
    return { thread, available: true };
  } catch (error) {
    logger.warn('the thread of an approval could not be read', { error });
    return { thread: [], available: false };
  }
}

/** The view of a stored approval (its status as of now), with the facts kept for the answered message. */
export function approvalView(
  entry: StoredApproval,
  progress: MessageProgress | undefined,
  thread: { thread: ThreadEntry[]; available: boolean },
): ApprovalView {
  const { record } = entry;
  const args = record.approvedArguments ?? record.proposedArguments;
  // Kept with the approval when it was held; older records fall back to the message's own progress.
  const kept = entry.preview.inbound;
  const read = progress?.inbound;
  const inbound = kept ?? read;
  return {
    id: record.id,
    status: record.status,
    action: record.actionKind,
    reasons: record.policyReasons,
    signals: [...(inbound?.injectionSignals ?? [])],
    sender: inbound ? { address: inbound.sender, authenticated: inbound.senderAuthenticated, knownContact: read?.knownContact ?? null } : null,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    decision: record.decision ?? null,
    execution: entry.execution,
    proposedHash: record.proposedHash,
    approvedHash: record.approvedHash ?? null,
    draft: draftOf(record.actionKind, args),
    event: entry.preview.event ?? null,
    blockedRecipients: entry.blockedRecipients === undefined ? null : [...entry.blockedRecipients],
    arguments: args,
    thread: thread.thread,
    threadAvailable: thread.available,
  };
}

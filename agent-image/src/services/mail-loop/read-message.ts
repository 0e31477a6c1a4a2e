import { foldAddressCase } from '@agent-fleet/kernel/email-address';
import { inboundFacts, isUnauthenticatedKnownSender, type InboundFacts } from '../../domain/auto-reply/inbound-facts.ts';
import { contentHash } from '../../domain/audit-record.ts';
import { emailRead } from '../../domain/audit-events.ts';
import { SENT_MAIL_LABELS, type MailMessage } from '../../ports/mail-provider.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { noReplyReason, REVIEWED_NO_REPLY_REASONS, type OwnMailProof } from './auto-reply-rules.ts';
import type { LoopDeps } from './loop-deps.ts';
import { withProviderRetry } from './provider-retry.ts';
import { toReview } from './review-queue.ts';

type ReadDeps = Pick<LoopDeps, 'context' | 'provider' | 'providerKind' | 'retry' | 'memory'>;

type FetchDeps = Pick<LoopDeps, 'context' | 'provider' | 'retry' | 'memory'>;

/**
 * One message from the mailbox (kill check first, retried when throttled), held in the workers' shared
 * memory for mail until its work item releases it, as it keeps it (keptForWork: its body cut to what the
 * later stages read). No backoff wait holds a download.
 */
export async function fetchMessage(deps: FetchDeps, messageId: string): Promise<MailMessage> {
  return (await heldRead(deps, messageId, () => null)).message;
}

/** fetchMessage, with `digest` taken of the message whole while it is read. */
function heldRead<T>(deps: FetchDeps, messageId: string, digest: (whole: MailMessage) => T): Promise<{ message: MailMessage; digest: T }> {
  deps.context.kill.assertAlive('read');
  return withProviderRetry(() => deps.memory.holdMessage(messageId, () => deps.provider.getMessage(messageId), digest), deps.retry);
}

/**
 * The read stage of a queued message: fetched, its sender verdict and injection signals established
 * (inbound-facts.ts), its read audited with them and counted, then `read` (keeping the facts for the
 * gate), `skipped` when it must never be answered (machine, list or own mail), or `review` when it must
 * not be answered but a human should see it (From the client's own address, not proven sent by the
 * mailbox). A known contact's address the provider did not authenticate is counted for the alert.
 * Returns the message and its new progress.
 */
export async function readMessage(deps: ReadDeps, messageId: string): Promise<{ message: MailMessage; progress: MessageProgress }> {
  const { context } = deps;
  // The audited hash is of the whole text, which the work item does not keep.
  const { message, digest: hash } = await heldRead(deps, messageId, (whole) => contentHash(`${whole.subject}\n${whole.textBody}`));
  const now = context.now();
  const ageMs = messageAgeMs(message, now);
  const skip = noReplyReason(message, ownAddresses(context), ownMailProof(deps));
  const inbound = messageFacts(deps, message);
  await context.audit.append(
    emailRead({
      messageId,
      parameters: { message_id: messageId, thread_id: message.threadId, age_seconds: Math.floor(ageMs / 1000), no_reply: skip },
      contentHash: hash,
      inbound,
    }),
  );
  context.metrics.emailsRead();
  context.metrics.dataRead(ageMs);
  context.metrics.action(now, context.config);
  // Mail never answered (lists, auto-replies) often fails DMARC after list rewriting: not an anomaly. The
  // client's own address on mail its mailbox did not send is one.
  const reviewed = skip !== null && REVIEWED_NO_REPLY_REASONS.has(skip);
  if ((skip === null || reviewed) && isUnauthenticatedKnownSender(inbound)) context.metrics.knownSenderUnauthenticated(inbound.authReason);
  if (reviewed) return { message, progress: await toReview(context, messageId, skip, {}, message.subject) };
  const progress: MessageProgress = skip === null ? { stage: 'read', at: now.toISOString(), inbound } : { stage: 'skipped', at: now.toISOString() };
  await context.state.setProgress(messageId, progress);
  return { message, progress };
}

/** What code establishes about a message: sender verdict, known contact, injection signals. */
export function messageFacts(deps: Pick<LoopDeps, 'context' | 'providerKind'>, message: MailMessage): InboundFacts {
  return inboundFacts(
    deps.providerKind,
    {
      fromAddress: message.from?.address ?? null,
      replyTo: message.replyTo.map((entry) => entry.address),
      subject: message.subject,
      textBody: message.textBody,
      authenticationResults: message.authenticationResults,
      threadId: message.threadId,
      receivedAt: message.receivedAt,
    },
    knownContacts(deps.context),
  );
}

/** The client's known contacts: its config's, its admins, its own mailbox, and those learnt from sent mail. */
function knownContacts(context: RuntimeContext): Set<string> {
  const { config } = context;
  return new Set([...config.knownContacts, ...config.admins, ...(config.mailbox === undefined ? [] : [config.mailbox]), ...context.policyState().knownContacts]);
}

/** How old the message was when read (its Date header, else its arrival), never negative. Pure. */
export function messageAgeMs(message: MailMessage, now: Date): number {
  const dated = message.date ?? message.receivedAt;
  return Math.max(0, now.getTime() - dated.getTime());
}

/**
 * What proves a message is the mailbox's own: the provider's sent label (Gmail's SENT, Outlook's Sent
 * Items: only the mailbox's own sends carry it), or the idempotency key of a send in the agent's outbox
 * that went to the mailbox itself (the inbox copy of a notice to an admin who is the mailbox, which
 * carries no sent mark). Only such a send: every message the agent sends carries its key in a header, so
 * each correspondent holds the key of the reply they got, and could put it on mail forging the client's
 * From to pass it off as the client's own words (skipped unseen, shown to the drafter unscanned). Pure.
 */
export function ownMailProof(deps: Pick<LoopDeps, 'context' | 'providerKind'>): OwnMailProof {
  const { outbox, config } = deps.context;
  const mailbox = config.mailbox === undefined ? '' : foldAddressCase(config.mailbox);
  const toMailbox = (key: string): boolean => {
    const entry = outbox.get(key);
    if (entry === undefined || mailbox === '') return false;
    const { to, cc, bcc } = entry.message;
    return [...to, ...cc, ...bcc].some((recipient) => foldAddressCase(recipient) === mailbox);
  };
  return { sentLabel: SENT_MAIL_LABELS[deps.providerKind], knowsKey: toMailbox };
}

function ownAddresses(context: RuntimeContext): Set<string> {
  const own = new Set<string>();
  if (context.config.mailbox !== undefined) own.add(context.config.mailbox);
  return own;
}

import { shownLine } from '../../domain/auto-reply/inbound-text.ts';
import { bounded, splitQuotedHistory } from '../../domain/auto-reply/quoted-history.ts';
import type { EmailForModel } from '../../ports/llm-client.ts';
import type { MailMessage } from '../../ports/mail-provider.ts';
import type { OwnMailProof } from './auto-reply-rules.ts';
import { detachedText } from './detached-text.ts';

/** How many earlier messages of the thread the drafter sees. */
export const THREAD_CONTEXT = 3;
/** How much of an earlier message's own text the drafter sees. */
export const THREAD_TEXT_LIMIT = 2000;
/** How much quoted history of the message answered the drafter sees. */
export const QUOTED_LIMIT = 2000;
/** How much of a body the model sees at all: an oversized message is cut, saying so. */
export const MODEL_BODY_LIMIT = 50_000;

/**
 * A message as the model sees it: addresses, subject, date and text body (bounded), nothing else. Each
 * header value is one line: an address is kept as written for every decision, but a quoted local part
 * may hold a line separator that would start a line of its own (`From: ceo@…`) in the prompt. Pure.
 */
export function forModel(message: MailMessage): EmailForModel {
  return {
    from: shownLine(message.from?.address ?? ''),
    to: message.to.map((address) => shownLine(address.address)),
    cc: message.cc.map((address) => shownLine(address.address)),
    subject: shownLine(message.subject),
    date: (message.date ?? message.receivedAt).toISOString(),
    body: bounded(message.textBody, MODEL_BODY_LIMIT),
  };
}

/**
 * The message answered as the drafter sees it: the sender's own text, and the history it quotes apart
 * (bounded, and marked as possibly written by others). Pure.
 */
export function forDrafter(message: MailMessage): EmailForModel {
  const { text, quoted } = splitQuotedHistory(bounded(message.textBody, MODEL_BODY_LIMIT));
  const email = { ...forModel(message), body: text };
  return quoted === '' ? email : { ...email, quoted: bounded(quoted, QUOTED_LIMIT) };
}

const sameAddress = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();

/** Whether the client's own message went to this address (To or Cc). Pure. */
const sentTo = (entry: MailMessage, address: string | undefined): boolean =>
  [...entry.to, ...entry.cc].some((recipient) => sameAddress(recipient.address, address));

/**
 * The thread context of the drafter, minimised to what a reply needs: the last earlier messages between
 * the client (`ownAddress`) and this sender, oldest first, each only its own text (its quotes are earlier
 * messages or other people's words) and bounded. Messages by anyone else in the thread are left out, and
 * so are the client's messages that did not go to this sender: anyone who knows a Message-ID can reply
 * into a conversation the client had with someone else, and must not be shown what the client wrote
 * there. Where the provider marks the mailbox's own sends (`proof.sentLabel`), a message is the client's
 * only with that mark or a key the agent's outbox knows: anyone can write the client's address as From,
 * and such a forgery must not reach the drafter as the client's own words (nor escape the injection
 * scan, which leaves the client's messages out). Pure.
 */
export function threadForModel(thread: readonly MailMessage[], message: MailMessage, ownAddress?: string, proof?: OwnMailProof): EmailForModel[] {
  const sender = message.from?.address;
  const provenOwn = (entry: MailMessage): boolean => {
    if (proof === undefined || proof.sentLabel === null || entry.labels.includes(proof.sentLabel)) return true;
    const key = entry.idempotencyKey?.trim() ?? '';
    return key !== '' && proof.knowsKey(key);
  };
  return thread
    .filter((entry) => entry.id !== message.id)
    .filter((entry) => sameAddress(entry.from?.address, sender) || (sameAddress(entry.from?.address, ownAddress) && sentTo(entry, sender) && provenOwn(entry)))
    .slice(-THREAD_CONTEXT)
    .map((entry) => detached({ ...forModel(entry), body: bounded(ownText(entry.textBody), THREAD_TEXT_LIMIT) }));
}

/**
 * The context kept of a thread message, holding none of it: its body is cut from a text of up to
 * megabytes, and a cut would otherwise keep that whole text alive through the drafting (detached-text.ts).
 */
function detached(email: EmailForModel): EmailForModel {
  return { ...email, from: detachedText(email.from), to: email.to.map(detachedText), cc: email.cc.map(detachedText), subject: detachedText(email.subject), body: detachedText(email.body) };
}

/**
 * An earlier message's own text, its history looked for only where the drafter could read it: the
 * search costs up to some thousand steps a line, and a sender chooses the lines of a thread entry of
 * megabytes. Only the start of the text is shown (THREAD_TEXT_LIMIT), so the answer shown is the same.
 */
function ownText(body: string): string {
  return splitQuotedHistory(body.slice(0, MODEL_BODY_LIMIT)).text;
}

/** Whether the message answers another, so its thread is worth reading. Pure. */
export function hasThread(message: MailMessage): boolean {
  return message.inReplyTo !== null || message.references.length > 0;
}

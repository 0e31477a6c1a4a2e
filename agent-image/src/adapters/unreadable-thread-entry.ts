import type { MailMessage } from '../ports/mail-provider.ts';

/**
 * A message of a thread the adapter could not read (mailparser refuses more than 1000 MIME parts or a
 * header over 1 MiB; a provider entry of an unexpected shape). Anyone who can reply into a thread can
 * send one, so `getThread` shows it as this entry instead of failing the whole thread: it keeps the
 * message's place (id, time), says in its text that it was left out, and carries no sender, so it never
 * passes for a message of the correspondent or of the client. Reading the message itself with
 * `getMessage` still fails. Pure.
 */

export const UNREADABLE_THREAD_ENTRY_TEXT = '[A message of this thread could not be read and is left out.]';

export function unreadableThreadEntry(entry: { id: string; threadId: string; receivedAt: Date | null; labels?: readonly string[] }): MailMessage {
  return {
    id: entry.id,
    threadId: entry.threadId,
    from: null,
    to: [],
    cc: [],
    replyTo: [],
    subject: '',
    date: null,
    messageId: null,
    inReplyTo: null,
    references: [],
    listId: null,
    autoSubmitted: null,
    precedence: null,
    autoReplyHeaders: {},
    idempotencyKey: null,
    authenticationResults: [],
    textBody: UNREADABLE_THREAD_ENTRY_TEXT,
    receivedAt: entry.receivedAt ?? new Date(0),
    labels: [...(entry.labels ?? [])],
  };
}

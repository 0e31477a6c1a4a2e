import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { MailMessage } from '../../ports/mail-provider.ts';
import { ThreadDownloadBudget } from '../thread-download-budget.ts';
import { unreadableThreadEntry } from '../unreadable-thread-entry.ts';
import { GraphAnswerTooLargeError } from './graph-call-scope.ts';
import { MESSAGE_FIELDS, graphMessageSchema, toMailMessage } from './graph-message.ts';

/** How many messages of a thread are read: the newest ones (callers want the last few for context). */
export const THREAD_READ_LIMIT = 50;
/** The most of one thread entry read alone (a thread whose list is over the list's limit). */
const THREAD_ENTRY_MAX_BYTES = 5 * 1024 * 1024;

/** The Graph reads a thread needs, each bounded to `maxResponseBytes` of answer. */
export interface GraphThreadReads {
  /** The newest THREAD_READ_LIMIT messages of the conversation with these fields, newest first, as Graph answers the list. */
  list(fields: string, maxResponseBytes: number): Promise<unknown>;
  /** One message with MESSAGE_FIELDS, as Graph answers it. */
  get(id: string, maxResponseBytes: number): Promise<unknown>;
  /** The id of the mailbox's Sent Items folder, whose messages are labelled GRAPH_SENT_LABEL (toMailMessage); null when unknown. */
  sentItemsId(): Promise<string | null>;
  logger: Logger;
}

/**
 * The newest messages of a thread, oldest first, in one list; when that list is over `listMaxBytes`
 * (anyone who can reply into the thread can make it so), each message is read alone and one over
 * THREAD_ENTRY_MAX_BYTES is an unreadable entry, not downloaded.
 */
export async function readGraphThread(reads: GraphThreadReads, threadId: string, listMaxBytes: number): Promise<MailMessage[]> {
  const sentItemsId = await reads.sentItemsId();
  let messages: MailMessage[];
  try {
    messages = listOf(await reads.list(MESSAGE_FIELDS, listMaxBytes)).map((item) => threadEntry(reads.logger, item, threadId, sentItemsId));
  } catch (error) {
    if (!(error instanceof GraphAnswerTooLargeError)) throw error;
    reads.logger.warn('a thread is too large to read in one answer; its messages are read one by one', { op: 'messages.list' });
    messages = await oneByOne(reads, threadId, listMaxBytes, sentItemsId);
  }
  return messages.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/**
 * The entries of a thread read one by one, newest first (the list's order), together downloading no more
 * than the list may (`listMaxBytes`, see ThreadDownloadBudget). An entry over what is left is an
 * unreadable entry, not downloaded.
 */
async function oneByOne(reads: GraphThreadReads, threadId: string, listMaxBytes: number, sentItemsId: string | null): Promise<MailMessage[]> {
  const entries = listOf(await reads.list('id,receivedDateTime', listMaxBytes));
  const messages: MailMessage[] = [];
  const budget = new ThreadDownloadBudget(listMaxBytes, THREAD_ENTRY_MAX_BYTES);
  for (const entry of entries) {
    const { id, receivedDateTime } = (entry ?? {}) as { id?: unknown; receivedDateTime?: unknown };
    if (typeof id !== 'string' || id === '') throw new FleetError('integrity', 'graph answered a thread message without an id');
    const limit = budget.nextEntryLimit();
    try {
      if (limit <= 0) throw new GraphAnswerTooLargeError(THREAD_ENTRY_MAX_BYTES);
      const answer = await reads.get(id, limit);
      budget.spend(Buffer.byteLength(JSON.stringify(answer) ?? ''));
      messages.push(threadEntry(reads.logger, answer, threadId, sentItemsId));
    } catch (error) {
      if (!(error instanceof GraphAnswerTooLargeError)) throw error;
      messages.push(unreadableThreadEntry({ id, threadId, receivedAt: receivedAtOf(receivedDateTime) }));
    }
  }
  return messages;
}

/**
 * One message of a thread, as getMessage reads it; one of an unexpected shape is an unreadable entry
 * instead, so that one message cannot make the whole thread unreadable. One without an id is an
 * integrity error: the answer as a whole is then not a message list.
 */
function threadEntry(logger: Logger, item: unknown, threadId: string, sentItemsId: string | null): MailMessage {
  const parsed = graphMessageSchema.safeParse(item);
  if (parsed.success) return toMailMessage(parsed.data, sentItemsId);
  const { id, receivedDateTime } = (item ?? {}) as { id?: unknown; receivedDateTime?: unknown };
  if (typeof id !== 'string' || id === '') throw new FleetError('integrity', 'graph answered a thread message without an id');
  logger.warn('a message of a thread has an unexpected shape; it is left out of the thread', { op: 'messages.list' });
  return unreadableThreadEntry({ id, threadId, receivedAt: receivedAtOf(receivedDateTime) });
}

export function listOf(value: unknown): unknown[] {
  const list = (value as { value?: unknown } | null)?.value;
  if (!Array.isArray(list)) throw new FleetError('integrity', 'graph answered a list in an unexpected shape');
  return list;
}

function receivedAtOf(value: unknown): Date | null {
  const received = typeof value === 'string' ? new Date(value) : null;
  return received !== null && Number.isFinite(received.getTime()) ? received : null;
}

import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { MailChanges } from '../../ports/mail-provider.ts';
import { maxHistoryId, type GmailApi } from './gmail-api.ts';

/**
 * How many history pages one sync round reads (500 records each). A mailbox with a huge history (or a
 * server that keeps answering a nextPageToken) would otherwise keep the agent paging, and its ids
 * growing, without end; the next round resumes where this one stopped.
 */
export const HISTORY_PAGES_PER_ROUND = 20;

/**
 * New inbox messages since a history id (users.history.list), each once; drafts left out. At most
 * HISTORY_PAGES_PER_ROUND pages: a round stopped early moves the cursor to the last history record it
 * read, not to the mailbox's current history id, so the records after it are read by the next round.
 */
export async function historySince(api: GmailApi, cursor: string): Promise<MailChanges> {
  const ids: string[] = [];
  const seen = new Set<string>();
  const tokens = new Set<string>();
  let pageToken: string | undefined;
  let latest = cursor;
  let lastRecord = cursor;
  for (let page = 0; page < HISTORY_PAGES_PER_ROUND; page++) {
    const token = pageToken;
    const response = await api.call('history.list', () =>
      api.gmail.users.history.list({
        userId: 'me',
        startHistoryId: cursor,
        historyTypes: ['messageAdded'],
        labelId: 'INBOX',
        maxResults: 500,
        ...(token === undefined ? {} : { pageToken: token }),
      }),
    );
    for (const record of response.data.history ?? []) {
      if (typeof record.id === 'string') lastRecord = maxHistoryId(lastRecord, record.id);
      for (const added of record.messagesAdded ?? []) {
        const id = added.message?.id;
        const labels = added.message?.labelIds ?? [];
        if (typeof id !== 'string' || seen.has(id) || !labels.includes('INBOX') || labels.includes('DRAFT')) continue;
        seen.add(id);
        ids.push(id);
      }
    }
    if (typeof response.data.historyId === 'string') latest = maxHistoryId(latest, response.data.historyId);
    pageToken = response.data.nextPageToken ?? undefined;
    if (pageToken === undefined) return { messageIds: ids, nextCursor: latest, fullResync: false };
    if (tokens.has(pageToken)) throw new FleetError('integrity', 'gmail history paging repeated a page token');
    tokens.add(pageToken);
  }
  return { messageIds: ids, nextCursor: lastRecord, fullResync: false };
}

/**
 * The inbox listed in full (Gmail no longer takes the cursor), oldest first, up to `limit` ids. `historyId`
 * must be taken before listing, so a message arriving during the listing is in the next history instead
 * of lost. It is the next cursor even when below the refused one: a cursor ahead of the mailbox (another
 * account connected, a restored mailbox) is as unusable as an expired one, and kept it would 404 again
 * and turn every later round into a full listing.
 */
export async function fullInboxListing(api: GmailApi, historyId: string, limit: number): Promise<MailChanges> {
  const ids: string[] = [];
  const seen = new Set<string>();
  // Pages that add nothing (empty, or ids already listed) would otherwise never reach the limit.
  const maxPages = Math.max(HISTORY_PAGES_PER_ROUND, Math.ceil(limit / 100));
  let pageToken: string | undefined;
  for (let page = 0; page < maxPages && ids.length < limit; page++) {
    const token = pageToken;
    const response = await api.call('messages.list', () =>
      api.gmail.users.messages.list({
        userId: 'me',
        labelIds: ['INBOX'],
        maxResults: Math.min(500, limit - ids.length),
        ...(token === undefined ? {} : { pageToken: token }),
      }),
    );
    for (const message of response.data.messages ?? []) {
      if (ids.length >= limit) break;
      if (typeof message.id !== 'string' || seen.has(message.id)) continue;
      seen.add(message.id);
      ids.push(message.id);
    }
    pageToken = response.data.nextPageToken ?? undefined;
    if (pageToken === undefined) break;
  }
  return { messageIds: ids.reverse(), nextCursor: historyId, fullResync: true };
}

import type { MailChanges } from '../../ports/mail-provider.ts';
import { maxHistoryId, type GmailApi } from './gmail-api.ts';

/** New inbox messages since a history id (users.history.list), each once; drafts left out. */
export async function historySince(api: GmailApi, cursor: string): Promise<MailChanges> {
  const ids: string[] = [];
  const seen = new Set<string>();
  let pageToken: string | undefined;
  let latest = cursor;
  do {
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
  } while (pageToken !== undefined);
  return { messageIds: ids, nextCursor: latest, fullResync: false };
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
  let pageToken: string | undefined;
  do {
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
      if (typeof message.id === 'string' && !ids.includes(message.id)) ids.push(message.id);
    }
    pageToken = response.data.nextPageToken ?? undefined;
  } while (pageToken !== undefined && ids.length < limit);
  return { messageIds: ids.reverse(), nextCursor: historyId, fullResync: true };
}

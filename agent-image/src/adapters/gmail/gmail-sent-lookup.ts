import type { SentMessage } from '../../ports/mail-provider.ts';
import type { GmailApi } from './gmail-api.ts';

/** The first of these messages that carries the idempotency key, read by its metadata only. */
export async function firstWithKey(api: GmailApi, ids: string[], key: string): Promise<SentMessage | null> {
  for (const id of ids) {
    const response = await api.call('messages.get', () =>
      api.gmail.users.messages.get({
        userId: 'me',
        id,
        format: 'metadata',
        metadataHeaders: ['X-Agent-Fleet-Idempotency-Key'],
      }),
    );
    const header = (response.data.payload?.headers ?? []).find((h) => h.name?.toLowerCase() === 'x-agent-fleet-idempotency-key');
    if (header?.value?.trim() === key) {
      return { id, threadId: response.data.threadId ?? null, idempotencyKey: key };
    }
  }
  return null;
}

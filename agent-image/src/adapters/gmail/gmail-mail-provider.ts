import { assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { isEmailAddress } from '@agent-fleet/kernel/email-address';
import { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type {
  Draft,
  DraftInput,
  DraftUpdate,
  MailChanges,
  MailCursor,
  MailMessage,
  MailProvider,
  MailWatch,
  SentMessage,
  WatchTarget,
} from '../../ports/mail-provider.ts';
import { replySubject } from '../../ports/mail-provider.ts';
import { isPubSubTopicName } from '@agent-fleet/kernel/pubsub-topic';
import { googleClientFor, type GoogleAuth, type RotatingOAuth2Client } from './gmail-auth.ts';
import { callGoogleApi } from './google-call.ts';
import { parseRaw, toMailMessage } from './gmail-message.ts';
import { buildRawMessage, messageIdFor } from './gmail-mime.ts';

/** `client` (shared with the calendar) or `oauth` + `onRefreshTokenRotated` (write rotated tokens to Vault). */
export type GmailMailProviderConfig = GoogleAuth & {
  /** API root, with trailing slash. Default: https://gmail.googleapis.com/. */
  rootUrl?: string;
  /** Whether `mail.send` is granted; without it `sendDraft` refuses (gmail.compose alone could send). */
  canSend: boolean;
  /** Upper bound of message ids returned by a full resync. Default 500. */
  maxResyncMessages?: number;
  /** How many recent sent messages the idempotency fallback scan reads. Default 100. */
  sentScanLimit?: number;
  /** Per-request timeout, ms. Default 30 000. */
  timeoutMs?: number;
  logger: Logger;
};

/** MailProvider over the Gmail API (googleapis). */
export class GmailMailProvider implements MailProvider {
  readonly #gmail: gmail_v1.Gmail;
  readonly #auth: RotatingOAuth2Client;
  readonly #config: GmailMailProviderConfig;
  readonly #logger: Logger;
  readonly #labelIds = new Map<string, string>();
  readonly #labelLookups = new Map<string, Promise<string>>();
  #mailbox: string | null = null;

  constructor(config: GmailMailProviderConfig) {
    this.#config = config;
    this.#logger = config.logger.child({ adapter: 'gmail' });
    this.#auth = googleClientFor(config);
    this.#gmail = new gmail_v1.Gmail({
      auth: this.#auth,
      rootUrl: config.rootUrl ?? 'https://gmail.googleapis.com/',
      // Retries belong to the caller: a blind retry of drafts.send could send twice.
      retry: false,
      timeout: config.timeoutMs ?? 30_000,
    });
  }

  async listChangesSince(cursor: MailCursor | null): Promise<MailChanges> {
    if (cursor === null) {
      const historyId = await this.#currentHistoryId();
      return { messageIds: [], nextCursor: historyId, fullResync: false };
    }
    if (!/^\d{1,30}$/.test(cursor)) throw new FleetError('invalid_input', 'gmail cursor must be a history id');
    try {
      return await this.#history(cursor);
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') {
        this.#logger.info('gmail history expired; full resync', { op: 'sync' });
        return this.#fullResync(cursor);
      }
      throw error;
    }
  }

  async getMessage(id: string): Promise<MailMessage> {
    const response = await this.#call('messages.get', () =>
      this.#gmail.users.messages.get({ userId: 'me', id, format: 'raw' }),
    );
    return this.#toMessage(response.data);
  }

  async getThread(threadId: string): Promise<MailMessage[]> {
    const response = await this.#call('threads.get', () =>
      this.#gmail.users.threads.get({ userId: 'me', id: threadId, format: 'minimal' }),
    );
    const messages: MailMessage[] = [];
    for (const entry of response.data.messages ?? []) {
      if (typeof entry.id === 'string') messages.push(await this.getMessage(entry.id));
    }
    return messages.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  }

  async hasPreviousCommunicationWith(address: string): Promise<boolean> {
    const normalised = address.trim().toLowerCase();
    if (!isEmailAddress(normalised)) throw new FleetError('invalid_input', 'not an email address');
    const response = await this.#call('messages.list', () =>
      this.#gmail.users.messages.list({ userId: 'me', q: `in:sent to:${normalised}`, maxResults: 1 }),
    );
    return (response.data.messages ?? []).length > 0;
  }

  async createDraft(input: DraftInput): Promise<Draft> {
    assertIdempotencyKey(input.idempotencyKey);
    let inReplyTo: string | null = null;
    let references: string[] = [];
    let threadId = input.threadId;
    if (input.inReplyTo !== undefined) {
      const original = await this.getMessage(input.inReplyTo);
      inReplyTo = original.messageId;
      references = [...original.references, ...(original.messageId === null ? [] : [original.messageId])];
      threadId = original.threadId;
    }
    const raw = await buildRawMessage({
      from: await this.#mailboxAddress(),
      to: input.to,
      cc: input.cc ?? [],
      subject: input.inReplyTo === undefined ? input.subject : replySubject(input.subject),
      body: input.body,
      html: input.html,
      inReplyTo,
      references,
      idempotencyKey: input.idempotencyKey,
    });
    const response = await this.#call('drafts.create', () =>
      this.#gmail.users.drafts.create({
        userId: 'me',
        requestBody: { message: { raw, ...(threadId === undefined ? {} : { threadId }) } },
      }),
    );
    return this.getDraft(requireString(response.data.id, 'draft id'));
  }

  async updateDraft(draftId: string, update: DraftUpdate): Promise<Draft> {
    const current = await this.#draftMail(draftId);
    const key = current.draft.idempotencyKey;
    if (key === null) throw new FleetError('integrity', 'draft has no idempotency key; it was not created by the agent');
    const raw = await buildRawMessage({
      from: await this.#mailboxAddress(),
      to: update.to ?? current.draft.to,
      cc: update.cc ?? current.draft.cc,
      subject: update.subject ?? current.draft.subject,
      body: update.body ?? current.draft.body,
      inReplyTo: current.inReplyTo,
      references: current.references,
      idempotencyKey: key,
    });
    await this.#call('drafts.update', () =>
      this.#gmail.users.drafts.update({
        userId: 'me',
        id: draftId,
        requestBody: { id: draftId, message: { raw, threadId: current.draft.threadId } },
      }),
    );
    return this.getDraft(draftId);
  }

  async getDraft(draftId: string): Promise<Draft> {
    return (await this.#draftMail(draftId)).draft;
  }

  async deleteDraft(draftId: string): Promise<void> {
    await this.#call('drafts.delete', () => this.#gmail.users.drafts.delete({ userId: 'me', id: draftId }));
  }

  async sendDraft(draftId: string): Promise<SentMessage> {
    if (!this.#config.canSend) throw new FleetError('forbidden', 'sending is not granted (mail.send)');
    const draft = await this.getDraft(draftId);
    const response = await this.#call('drafts.send', () =>
      this.#gmail.users.drafts.send({ userId: 'me', requestBody: { id: draftId } }),
    );
    this.#logger.info('gmail draft sent', { op: 'send' });
    return { id: response.data.id ?? null, threadId: response.data.threadId ?? null, idempotencyKey: draft.idempotencyKey };
  }

  async findSentByIdempotencyKey(key: string): Promise<SentMessage | null> {
    assertIdempotencyKey(key);
    const messageId = messageIdFor(key, await this.#mailboxAddress());
    const byId = await this.#call('messages.list', () =>
      this.#gmail.users.messages.list({ userId: 'me', q: `in:sent rfc822msgid:${messageId}`, maxResults: 5 }),
    );
    const candidates = (byId.data.messages ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
    const found = await this.#firstWithKey(candidates, key);
    if (found !== null) return found;
    // Gmail may replace a Message-ID it does not like; the header travels regardless.
    const recent = await this.#call('messages.list', () =>
      this.#gmail.users.messages.list({ userId: 'me', q: 'in:sent newer_than:7d', maxResults: this.#config.sentScanLimit ?? 100 }),
    );
    const recentIds = (recent.data.messages ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
    return this.#firstWithKey(recentIds.filter((id) => !candidates.includes(id)), key);
  }

  async label(id: string, label: string): Promise<void> {
    const labelId = await this.#labelId(label);
    await this.#call('messages.modify', () =>
      this.#gmail.users.messages.modify({ userId: 'me', id, requestBody: { addLabelIds: [labelId] } }),
    );
  }

  async archive(id: string): Promise<void> {
    await this.#call('messages.modify', () =>
      this.#gmail.users.messages.modify({ userId: 'me', id, requestBody: { removeLabelIds: ['INBOX'] } }),
    );
  }

  async markRead(id: string): Promise<void> {
    await this.#call('messages.modify', () =>
      this.#gmail.users.messages.modify({ userId: 'me', id, requestBody: { removeLabelIds: ['UNREAD'] } }),
    );
  }

  async watch(target: WatchTarget): Promise<MailWatch> {
    if (target.kind !== 'gmail') throw new FleetError('invalid_input', 'a Gmail watch needs a Pub/Sub topic target');
    if (!isPubSubTopicName(target.topicName)) throw new FleetError('invalid_input', 'topicName must be projects/<project>/topics/<topic>');
    const topicName = target.topicName;
    const createdAt = new Date();
    const response = await this.#call('watch', () =>
      this.#gmail.users.watch({ userId: 'me', requestBody: { topicName, labelIds: ['INBOX'], labelFilterBehavior: 'include' } }),
    );
    const expiration = Number(requireString(response.data.expiration, 'watch expiration'));
    if (!Number.isSafeInteger(expiration)) throw new FleetError('integrity', 'gmail watch expiration is not epoch milliseconds');
    this.#logger.info('gmail watch started', { op: 'watch' });
    return {
      id: requireString(response.data.historyId, 'watch history id'),
      kind: 'gmail',
      createdAt: createdAt.toISOString(),
      expiresAt: new Date(expiration).toISOString(),
    };
  }

  /** Google's advice: call watch again (at least daily); it replaces the previous one. */
  async renewWatch(_watch: MailWatch, target: WatchTarget): Promise<MailWatch> {
    return this.watch(target);
  }

  async unwatch(_watch: MailWatch): Promise<void> {
    await this.#call('stop', () => this.#gmail.users.stop({ userId: 'me' }));
    this.#logger.info('gmail watch stopped', { op: 'unwatch' });
  }

  // ---- internals -----------------------------------------------------------------------------------

  async #history(cursor: string): Promise<MailChanges> {
    const ids: string[] = [];
    const seen = new Set<string>();
    let pageToken: string | undefined;
    let latest = cursor;
    do {
      const token = pageToken;
      const response = await this.#call('history.list', () =>
        this.#gmail.users.history.list({
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

  async #fullResync(cursor: string): Promise<MailChanges> {
    // Taken before listing, so a message arriving during the listing is in the next history instead of lost.
    const historyId = await this.#currentHistoryId();
    const limit = this.#config.maxResyncMessages ?? 500;
    const ids: string[] = [];
    let pageToken: string | undefined;
    do {
      const token = pageToken;
      const response = await this.#call('messages.list', () =>
        this.#gmail.users.messages.list({
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
    return { messageIds: ids.reverse(), nextCursor: maxHistoryId(cursor, historyId), fullResync: true };
  }

  async #currentHistoryId(): Promise<string> {
    const profile = await this.#call('getProfile', () => this.#gmail.users.getProfile({ userId: 'me' }));
    if (typeof profile.data.emailAddress === 'string') this.#mailbox = profile.data.emailAddress;
    return requireString(profile.data.historyId, 'history id');
  }

  async #mailboxAddress(): Promise<string> {
    if (this.#mailbox === null) await this.#currentHistoryId();
    return requireString(this.#mailbox, 'mailbox address');
  }

  async #toMessage(data: gmail_v1.Schema$Message): Promise<MailMessage> {
    const raw = requireString(data.raw, 'raw message');
    const mail = await parseRaw(Buffer.from(raw, 'base64url'));
    return toMailMessage(mail, {
      id: requireString(data.id, 'message id'),
      threadId: requireString(data.threadId, 'thread id'),
      internalDate: data.internalDate ?? null,
      labelIds: data.labelIds ?? [],
    });
  }

  async #draftMail(draftId: string): Promise<{ draft: Draft; inReplyTo: string | null; references: string[] }> {
    const response = await this.#call('drafts.get', () =>
      this.#gmail.users.drafts.get({ userId: 'me', id: draftId, format: 'raw' }),
    );
    if (response.data.message === undefined || response.data.message === null) {
      throw new FleetError('integrity', 'gmail draft without a message');
    }
    const message = await this.#toMessage(response.data.message);
    return {
      draft: {
        id: draftId,
        messageId: message.id,
        threadId: message.threadId,
        to: message.to.map((a) => a.address),
        cc: message.cc.map((a) => a.address),
        subject: message.subject,
        body: message.textBody.replace(/\n$/, ''),
        idempotencyKey: message.idempotencyKey,
      },
      inReplyTo: message.inReplyTo,
      references: message.references,
    };
  }

  async #firstWithKey(ids: string[], key: string): Promise<SentMessage | null> {
    for (const id of ids) {
      const response = await this.#call('messages.get', () =>
        this.#gmail.users.messages.get({
          userId: 'me',
          id,
          format: 'metadata',
          metadataHeaders: ['X-Agent-Fleet-Idempotency-Key'],
        }),
      );
      const header = (response.data.payload?.headers ?? []).find(
        (h) => h.name?.toLowerCase() === 'x-agent-fleet-idempotency-key',
      );
      if (header?.value?.trim() === key) {
        return { id, threadId: response.data.threadId ?? null, idempotencyKey: key };
      }
    }
    return null;
  }

  /** Concurrent callers asking for the same new label share one lookup, so it is created once. */
  #labelId(name: string): Promise<string> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 225) return Promise.reject(new FleetError('invalid_input', 'label name must be 1-225 characters'));
    const key = trimmed.toLowerCase();
    const cached = this.#labelIds.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let lookup = this.#labelLookups.get(key);
    if (lookup === undefined) {
      lookup = this.#findOrCreateLabel(trimmed).finally(() => this.#labelLookups.delete(key));
      this.#labelLookups.set(key, lookup);
    }
    return lookup;
  }

  async #findOrCreateLabel(trimmed: string): Promise<string> {
    const list = await this.#call('labels.list', () => this.#gmail.users.labels.list({ userId: 'me' }));
    for (const label of list.data.labels ?? []) {
      if (typeof label.id === 'string' && typeof label.name === 'string') this.#labelIds.set(label.name.toLowerCase(), label.id);
    }
    const existing = this.#labelIds.get(trimmed.toLowerCase());
    if (existing !== undefined) return existing;
    const created = await this.#call('labels.create', () =>
      this.#gmail.users.labels.create({
        userId: 'me',
        requestBody: { name: trimmed, labelListVisibility: 'labelShow', messageListVisibility: 'show' },
      }),
    );
    const id = requireString(created.data.id, 'label id');
    this.#labelIds.set(trimmed.toLowerCase(), id);
    return id;
  }

  async #call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    this.#logger.debug('gmail request', { op: operation });
    return callGoogleApi(this.#auth, operation, request);
  }
}

function requireString(value: string | null | undefined, what: string): string {
  if (typeof value !== 'string' || value === '') throw new FleetError('integrity', `gmail answer without ${what}`);
  return value;
}

/** History ids are decimal uint64 strings; compare as BigInt so the cursor never moves backwards. */
function maxHistoryId(a: string, b: string): string {
  return BigInt(b) > BigInt(a) ? b : a;
}

import { AUTO_SUBMITTED_HEADER, autoSubmittedOf, type AutoSubmitted } from '../../domain/auto-reply/auto-submitted.ts';
import { assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { isEmailAddress, normaliseAddress } from '@agent-fleet/kernel/email-address';
import { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';
import type { ParsedMail } from 'mailparser';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { PREVIOUS_CORRESPONDENCE_READS, replySubject, UnreadableMessageError, type Draft, type DraftInput, type DraftUpdate, type MailChanges, type MailCursor, type MailMessage, type MailProvider, type MailWatch, type SentMessage, type WatchTarget } from '../../ports/mail-provider.ts';
import { isPubSubTopicName } from '@agent-fleet/kernel/pubsub-topic';
import { googleClientFor, type GoogleAuth, type RotatingOAuth2Client } from './gmail-auth.ts';
import { callGoogleApi } from './google-call.ts';
import { boundedAnswer, GmailAnswerTooLargeError, rawAnswerBytes } from './gmail-bounded-response.ts';
import { draftExtras, parseRaw, recipientsOf, toInboundMessage, toMailMessage, type GmailEnvelope } from './gmail-message.ts';
import { buildRawMessage, messageIdFor } from './gmail-mime.ts';
import { replyIds } from './gmail-reply-ids.ts';
import { isHistoryId, requireString, type GmailApi } from './gmail-api.ts';
import { GmailLabels } from './gmail-labels.ts';
import { firstWithKey } from './gmail-sent-lookup.ts';
import { fullInboxListing, historySince } from './gmail-sync.ts';
import { ThreadDownloadBudget } from '../thread-download-budget.ts';
import { unreadableThreadEntry } from '../unreadable-thread-entry.ts';

/** How many messages of a thread are read: the newest ones (callers want the last few for context). */
const THREAD_READ_LIMIT = 50;
/** A thread message larger than this is not downloaded for context (an unreadable entry in its place). */
const THREAD_ENTRY_MAX_BYTES = 5 * 1024 * 1024;
/** The largest message the agent downloads and parses (its container has 128 MiB). */
const MESSAGE_MAX_BYTES = 10 * 1024 * 1024;
/** What the reads of one thread's messages download together at most: no more than one message may be. */
const THREAD_MAX_BYTES = MESSAGE_MAX_BYTES;

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
  readonly #api: GmailApi;
  readonly #labels: GmailLabels;
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
      // Every answer is read up to what the largest message read takes, and no further; a thread's
      // entries get less (#threadEntry).
      adapter: boundedAnswer(rawAnswerBytes(MESSAGE_MAX_BYTES)),
    });
    this.#api = { gmail: this.#gmail, call: (operation, request) => this.#call(operation, request) };
    this.#labels = new GmailLabels(this.#api);
  }

  async listChangesSince(cursor: MailCursor | null): Promise<MailChanges> {
    if (cursor === null) {
      const historyId = await this.#currentHistoryId();
      return { messageIds: [], nextCursor: historyId, fullResync: false };
    }
    if (!isHistoryId(cursor)) throw new FleetError('invalid_input', 'gmail cursor must be a history id');
    try {
      return await historySince(this.#api, cursor);
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') {
        this.#logger.info('gmail history expired; full resync', { op: 'sync' });
        return fullInboxListing(this.#api, await this.#currentHistoryId(), this.#config.maxResyncMessages ?? 500);
      }
      throw error;
    }
  }

  /**
   * One message, read whole. One larger than MESSAGE_MAX_BYTES (Gmail takes up to 50 MB, mostly
   * attachments) is refused before it is downloaded: its base64 and parse would not fit the agent's
   * memory, and a crash on it would recur at every retry. The loop then leaves it for a person. Its
   * `sizeEstimate` is only a first check: the download itself stops at the bound (boundedAnswer).
   */
  async getMessage(id: string): Promise<MailMessage> {
    const size = await this.#call('messages.get', () => this.#gmail.users.messages.get({ userId: 'me', id, format: 'minimal' }));
    const bytes = Number(size.data.sizeEstimate ?? 0);
    const tooLarge = `more than the ${MESSAGE_MAX_BYTES / 1048576} MB the agent reads; it is left for a person`;
    if (bytes > MESSAGE_MAX_BYTES) throw new UnreadableMessageError(`message ${id} is ${(bytes / 1048576).toFixed(1)} MB, ${tooLarge}`);
    let download: { envelope: GmailEnvelope; raw: Buffer };
    try {
      download = await this.#rawMessage(id, MESSAGE_MAX_BYTES);
    } catch (error) {
      if (error instanceof GmailAnswerTooLargeError) throw new UnreadableMessageError(`message ${id} is ${tooLarge}`, { cause: error });
      throw error;
    }
    try {
      return toInboundMessage(await parseRaw(download.raw), download.envelope);
    } catch (error) {
      // The same bytes fail the same way at every retry: the loop leaves the message for a person.
      throw new UnreadableMessageError(`message ${id} could not be parsed (${parseFailure(error)}); it is left for a person`, { cause: error });
    }
  }

  /**
   * The newest messages of the thread (at most THREAD_READ_LIMIT), oldest first. Only those are
   * downloaded, newest first, none larger than THREAD_ENTRY_MAX_BYTES and together no more than
   * THREAD_MAX_BYTES (ThreadDownloadBudget): a sender who floods a thread with large messages would
   * otherwise make every read of it download them all into the agent's small memory. A message not
   * downloaded is an unreadable entry in its place.
   */
  async getThread(threadId: string): Promise<MailMessage[]> {
    const response = await this.#call('threads.get', () =>
      this.#gmail.users.threads.get({ userId: 'me', id: threadId, format: 'minimal' }),
    );
    const receivedAt = (entry: gmail_v1.Schema$Message): number => Number(entry.internalDate ?? 0) || 0;
    const newestFirst = (response.data.messages ?? [])
      .filter((entry) => typeof entry.id === 'string' && entry.id !== '')
      .sort((a, b) => receivedAt(b) - receivedAt(a))
      .slice(0, THREAD_READ_LIMIT);
    const budget = new ThreadDownloadBudget(THREAD_MAX_BYTES, THREAD_ENTRY_MAX_BYTES);
    const messages: MailMessage[] = [];
    for (const entry of newestFirst) {
      const size = Number(entry.sizeEstimate ?? 0);
      let read: { message: MailMessage; bytes: number } | null = null;
      if (budget.admits(size)) {
        const limit = budget.nextEntryLimit();
        read = await this.#threadEntry(entry.id as string, limit);
        // An entry whose sizeEstimate understated it was read up to its limit, then dropped.
        budget.spend(read === null ? limit : Math.max(size, read.bytes));
      }
      if (read !== null) {
        messages.push(read.message);
      } else {
        const at = receivedAt(entry);
        messages.push(unreadableThreadEntry({ id: entry.id as string, threadId, receivedAt: at > 0 ? new Date(at) : null, labels: entry.labelIds ?? [] }));
      }
    }
    return messages.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  }

  /**
   * One message of a thread, as getMessage reads it, and the bytes of its raw form; one that mailparser
   * refuses is an unreadable entry instead, so that a sender who replies into the thread cannot make the
   * whole thread unreadable. Null when it is over `maxBytes` as downloaded (not read further).
   */
  async #threadEntry(id: string, maxBytes: number): Promise<{ message: MailMessage; bytes: number } | null> {
    let download: { envelope: GmailEnvelope; raw: Buffer };
    try {
      download = await this.#rawMessage(id, maxBytes);
    } catch (error) {
      if (error instanceof GmailAnswerTooLargeError) return null;
      throw error;
    }
    const { envelope, raw } = download;
    let mail: ParsedMail;
    try {
      mail = await parseRaw(raw);
    } catch (error) {
      this.#logger.warn('a message of a thread could not be parsed; it is left out of the thread', { op: 'threads.get', error });
      const internalDate = envelope.internalDate === null ? NaN : Number(envelope.internalDate);
      const message = unreadableThreadEntry({ id: envelope.id, threadId: envelope.threadId, receivedAt: Number.isFinite(internalDate) ? new Date(internalDate) : null, labels: envelope.labelIds });
      return { message, bytes: raw.length };
    }
    return { message: toInboundMessage(mail, envelope), bytes: raw.length };
  }

  async hasPreviousCommunicationWith(address: string): Promise<boolean> {
    const normalised = address.trim().toLowerCase();
    if (!isEmailAddress(normalised)) throw new FleetError('invalid_input', 'not an email address');
    const response = await this.#call('messages.list', () =>
      this.#gmail.users.messages.list({ userId: 'me', q: `in:sent to:${normalised}`, maxResults: PREVIOUS_CORRESPONDENCE_READS }),
    );
    // Gmail's search matches words, not addresses (`to:a@b.com` also finds mail to x.a@b.com.evil.example):
    // a hit counts only when the message went to exactly this address.
    for (const entry of response.data.messages ?? []) {
      if (typeof entry.id !== 'string') continue;
      // The recipient headers only (never the body or attachments), read by the same parser as whole mail.
      const found = await this.#call('messages.get', () =>
        this.#gmail.users.messages.get({ userId: 'me', id: entry.id ?? '', format: 'metadata', metadataHeaders: ['To', 'Cc', 'Bcc'] }),
      );
      const headerBlock = (found.data.payload?.headers ?? []).map((header) => `${header.name ?? 'X-Unnamed'}: ${(header.value ?? '').replace(/[\r\n]+/g, ' ')}\r\n`).join('');
      const mail = await parseRaw(Buffer.from(`${headerBlock}\r\n`, 'utf8'));
      if (recipientsOf(mail).some((recipient) => normaliseAddress(recipient) === normalised)) return true;
    }
    return false;
  }

  async createDraft(input: DraftInput): Promise<Draft> {
    assertIdempotencyKey(input.idempotencyKey);
    let inReplyTo: string | null = null;
    let references: string[] = [];
    let threadId = input.threadId;
    if (input.inReplyTo !== undefined) {
      const original = await this.getMessage(input.inReplyTo);
      ({ inReplyTo, references } = replyIds(original));
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
      autoSubmitted: input.autoSubmitted ?? null,
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
      // The HTML alternative stays while the text it renders does; a new text drops it.
      html: update.body === undefined ? (current.draft.html ?? undefined) : undefined,
      inReplyTo: current.inReplyTo,
      references: current.references,
      idempotencyKey: key,
      // The marks are not edited: the draft stays as automatic (or not) as it was made.
      autoSubmitted: current.marking,
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
    const found = await firstWithKey(this.#api, candidates, key);
    if (found !== null) return found;
    // Gmail may replace a Message-ID it does not like; the header travels regardless.
    const recent = await this.#call('messages.list', () =>
      this.#gmail.users.messages.list({ userId: 'me', q: 'in:sent newer_than:7d', maxResults: this.#config.sentScanLimit ?? 100 }),
    );
    const recentIds = (recent.data.messages ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
    return firstWithKey(this.#api, recentIds.filter((id) => !candidates.includes(id)), key);
  }

  async label(id: string, label: string): Promise<void> {
    const labelId = await this.#labels.idOf(label);
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

  /**
   * The account the grant opens, read from `users.getProfile` now (never the address remembered from an
   * earlier call: a grant stored since may open another mailbox), normalised as config addresses are.
   */
  async mailboxAccount(): Promise<string> {
    this.#mailbox = null;
    await this.#currentHistoryId();
    const address = normaliseAddress(this.#mailbox ?? '');
    if (address === undefined) throw new FleetError('invalid_input', 'gmail getProfile named no mail address for the account');
    return address;
  }

  // ---- internals -----------------------------------------------------------------------------------

  async #currentHistoryId(): Promise<string> {
    const profile = await this.#call('getProfile', () => this.#gmail.users.getProfile({ userId: 'me' }));
    if (typeof profile.data.emailAddress === 'string') this.#mailbox = profile.data.emailAddress;
    return requireString(profile.data.historyId, 'history id');
  }

  async #mailboxAddress(): Promise<string> {
    if (this.#mailbox === null) await this.#currentHistoryId();
    return requireString(this.#mailbox, 'mailbox address');
  }

  /**
   * A message's envelope and RFC 822 bytes (format 'raw'), its answer read up to what a message of
   * `maxBytes` takes. Only the decoded bytes are kept: the answer and its base64 text are left to the
   * garbage collector before the caller parses.
   */
  async #rawMessage(id: string, maxBytes: number): Promise<{ envelope: GmailEnvelope; raw: Buffer }> {
    const response = await this.#call('messages.get', () =>
      this.#gmail.users.messages.get({ userId: 'me', id, format: 'raw' }, { adapter: boundedAnswer(rawAnswerBytes(maxBytes)) }),
    );
    const raw = rawOf(response.data);
    if (raw.length > maxBytes) throw new GmailAnswerTooLargeError(maxBytes);
    return { envelope: this.#envelopeOf(response.data), raw };
  }

  #envelopeOf(data: gmail_v1.Schema$Message): GmailEnvelope {
    return {
      id: requireString(data.id, 'message id'),
      threadId: requireString(data.threadId, 'thread id'),
      internalDate: data.internalDate ?? null,
      labelIds: data.labelIds ?? [],
    };
  }

  async #parse(data: gmail_v1.Schema$Message): Promise<{ mail: ParsedMail; message: MailMessage }> {
    const raw = requireString(data.raw, 'raw message');
    const mail = await parseRaw(Buffer.from(raw, 'base64url'));
    return { mail, message: toMailMessage(mail, this.#envelopeOf(data)) };
  }

  async #draftMail(draftId: string): Promise<{ draft: Draft; inReplyTo: string | null; references: string[]; marking: AutoSubmitted | null }> {
    const response = await this.#call('drafts.get', () =>
      this.#gmail.users.drafts.get({ userId: 'me', id: draftId, format: 'raw' }),
    );
    if (response.data.message === undefined || response.data.message === null) {
      throw new FleetError('integrity', 'gmail draft without a message');
    }
    const { mail, message } = await this.#parse(response.data.message);
    const extras = draftExtras(mail);
    return {
      draft: {
        id: draftId,
        messageId: message.id,
        threadId: message.threadId,
        to: message.to.map((a) => a.address),
        cc: message.cc.map((a) => a.address),
        ...extras,
        subject: message.subject,
        body: message.textBody.replace(/\n$/, ''),
        idempotencyKey: message.idempotencyKey,
      },
      inReplyTo: message.inReplyTo,
      references: message.references,
      marking: autoSubmittedOf({ [AUTO_SUBMITTED_HEADER]: extras.autoSubmitted ?? '' }),
    };
  }

  async #call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    this.#logger.debug('gmail request', { op: operation });
    return callGoogleApi(this.#auth, operation, request);
  }
}

/** The RFC 822 bytes of a message read with format 'raw'. */
function rawOf(data: gmail_v1.Schema$Message): Buffer {
  return Buffer.from(requireString(data.raw, 'raw message'), 'base64url');
}

/** What the parser said of a message it refused, as one short line (its messages name limits, not content). */
function parseFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 120);
}

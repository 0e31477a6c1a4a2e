import { IDEMPOTENCY_HEADER, assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { graphDraftHeaders } from './graph-draft-headers.ts';
import { foldAddressCase, isEmailAddress, normaliseAddress } from '@agent-fleet/kernel/email-address';
import type { GraphRequest } from '@microsoft/microsoft-graph-client';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { PREVIOUS_CORRESPONDENCE_READS, replySubject, UnreadableMessageError, type Draft, type DraftInput, type DraftUpdate, type MailChanges, type MailCursor, type MailMessage, type MailProvider, type MailWatch, type SentMessage, type WatchTarget } from '../../ports/mail-provider.ts';
import type { DeadlineSignal } from './graph-bounded-response.ts';
import { connectGraph, type GraphConnection } from './graph-client.ts';
import { isInboxDeltaLink } from './graph-delta-link.ts';
import { callGraphApi, graphStatusOf } from './graph-errors.ts';
import {
  MESSAGE_FIELDS,
  NATIVE_BODY_PROPERTY,
  attachmentCount,
  graphMessageSchema,
  nativeBodyOf,
  recipients,
  sentTo,
  toDraft,
  toMailMessage,
  type GraphMessage,
} from './graph-message.ts';
import { parseSubscription, subscriptionExpiry, subscriptionPath } from './graph-subscription.ts';
import type { GraphTokenSource } from './graph-token-source.ts';

import { GraphAnswerTooLargeError } from './graph-call-scope.ts';
import { THREAD_READ_LIMIT, listOf, readGraphThread } from './graph-thread.ts';

/**
 * The most of a Graph answer the agent downloads (a message as JSON, its body and headers; a thread's
 * list): Exchange takes messages of up to 150 MB, and a body that size would not fit the agent's
 * 128 MiB; a crash on it would recur at every retry. Attachments are never downloaded.
 */
const MESSAGE_MAX_BYTES = 10 * 1024 * 1024;

export interface GraphMailProviderConfig {
  tokens: GraphTokenSource;
  /** Graph origin without version. Default https://graph.microsoft.com. */
  baseUrl?: string;
  /** Whether `mail.send` is granted (Mail.Send is requested only then). */
  canSend: boolean;
  /** How long one Graph exchange may take, body included, ms. Default 30 s. */
  timeoutMs?: number;
  /** Makes the signal that ends an exchange at `timeoutMs`. Default AbortSignal.timeout; for tests. */
  deadlineSignal?: DeadlineSignal;
  /** Messages per delta page asked for. Default 50. */
  pageSize?: number;
  /** Upper bound of message ids returned by a full resync. Default 500. */
  maxResyncMessages?: number;
  logger: Logger;
}

const DELTA_PATH = '/me/mailFolders/inbox/messages/delta';
/**
 * How many delta pages a round of changes reads. A large change (thousands of messages moved into the
 * inbox, or a server that keeps answering nextLinks) would otherwise be read, and its ids held, in one
 * round; the round stops at a page's end and its nextLink is the cursor, where the next round resumes.
 */
export const DELTA_PAGES_PER_ROUND = 40;
/** The most pages of a round that must reach its deltaLink (a baseline, a full resync), which cannot resume. */
const DELTA_PAGES_TO_END = 10_000;
// PS_INTERNET_HEADERS: how Exchange exposes internet headers as extended properties, which can be filtered on.
const HEADER_PROPERTY = `String {00020386-0000-0000-C000-000000000046} Name ${IDEMPOTENCY_HEADER}`;
const INBOX_RESOURCE = "me/mailFolders('inbox')/messages";
/** Graph's default message ids change when a message moves to another folder; immutable ones do not. */
const IMMUTABLE_IDS = 'IdType="ImmutableId"';

const deltaPage = (value: unknown) => {
  const page = value as { value?: unknown; '@odata.nextLink'?: unknown; '@odata.deltaLink'?: unknown };
  if (!Array.isArray(page.value)) throw new FleetError('integrity', 'graph delta page without value');
  return {
    items: page.value as { id?: unknown; '@removed'?: unknown }[],
    nextLink: typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : null,
    deltaLink: typeof page['@odata.deltaLink'] === 'string' ? page['@odata.deltaLink'] : null,
  };
};

/** MailProvider over Microsoft Graph (@microsoft/microsoft-graph-client). */
export class GraphMailProvider implements MailProvider {
  readonly #graph: GraphConnection;
  readonly #config: GraphMailProviderConfig;
  readonly #logger: Logger;
  /** The id of the mailbox's Sent Items folder, read once (it does not change); undefined until read or after a failed read. */
  #sentItems: Promise<string> | undefined;

  constructor(config: GraphMailProviderConfig) {
    this.#config = config;
    this.#logger = config.logger.child({ adapter: 'graph' });
    this.#graph = connectGraph(config.tokens, config.baseUrl, config.timeoutMs, config.deadlineSignal);
  }

  async listChangesSince(cursor: MailCursor | null): Promise<MailChanges> {
    if (cursor !== null && !isInboxDeltaLink(cursor, this.#graph.root)) {
      throw new FleetError('invalid_input', 'graph cursor must be a delta link of this mailbox');
    }
    if (cursor === null) {
      const baseline = await this.#deltaRound(null, 0, DELTA_PAGES_TO_END);
      return { messageIds: [], nextCursor: baseline.link, fullResync: false };
    }
    try {
      const round = await this.#deltaRound(cursor, Number.POSITIVE_INFINITY, DELTA_PAGES_PER_ROUND);
      return { messageIds: round.ids, nextCursor: round.link, fullResync: false };
    } catch (error) {
      if (!(error instanceof FleetError && error.cause !== undefined && graphStatusOf(error.cause) === 410)) throw error;
      this.#logger.info('graph delta token expired; full resync', { op: 'sync' });
      const round = await this.#deltaRound(null, this.#config.maxResyncMessages ?? 500, DELTA_PAGES_TO_END);
      return { messageIds: round.ids, nextCursor: round.link, fullResync: true };
    }
  }

  /**
   * One message. One whose answer is over MESSAGE_MAX_BYTES is refused before it is downloaded, with a
   * clear invalid_input: the loop then leaves it for a person.
   */
  async getMessage(id: string): Promise<MailMessage> {
    try {
      const [message, sentItemsId] = await Promise.all([this.#readMessage(id, MESSAGE_MAX_BYTES), this.#sentItemsId()]);
      return toMailMessage(message, sentItemsId);
    } catch (error) {
      if (!(error instanceof GraphAnswerTooLargeError)) throw error;
      throw new UnreadableMessageError(`message ${id} is more than the ${MESSAGE_MAX_BYTES / 1048576} MB the agent reads; it is left for a person`);
    }
  }

  /** The newest messages of the thread (at most THREAD_READ_LIMIT), oldest first; see readGraphThread. */
  async getThread(threadId: string): Promise<MailMessage[]> {
    const escaped = threadId.replaceAll("'", "''");
    const message = (id: string) => `/me/messages/${encodeURIComponent(id)}`;
    return readGraphThread(
      {
        // The newest messages of a long thread, not whichever 50 Graph lists first. Graph sorts a filtered
        // list only by a property the filter names first (else 400 InefficientFilter), hence the
        // always-true receivedDateTime clause ahead of the conversation.
        list: (fields, maxResponseBytes) =>
          this.#call(
            'messages.list',
            () =>
              this.#request(`/me/messages`)
                .filter(`receivedDateTime ge 1900-01-01T00:00:00Z and conversationId eq '${escaped}'`)
                .orderby('receivedDateTime desc')
                .select(fields)
                .top(THREAD_READ_LIMIT)
                .get(),
            maxResponseBytes,
          ),
        get: (id, maxResponseBytes) => this.#call('messages.get', () => this.#request(message(id)).select(MESSAGE_FIELDS).get(), maxResponseBytes),
        sentItemsId: () => this.#sentItemsId(),
        logger: this.#logger,
      },
      threadId,
      MESSAGE_MAX_BYTES,
    );
  }

  async hasPreviousCommunicationWith(address: string): Promise<boolean> {
    const normalised = foldAddressCase(address);
    if (!isEmailAddress(normalised)) throw new FleetError('invalid_input', 'not an email address');
    const response: unknown = await this.#call('sentitems.search', () =>
      this.#request('/me/mailFolders/sentitems/messages')
        .search(`"to:${normalised}"`)
        .select('id,toRecipients,ccRecipients,bccRecipients')
        .top(PREVIOUS_CORRESPONDENCE_READS)
        .get(),
    );
    // Search matches words and display names, not addresses: a hit counts only when the message went
    // to exactly this address.
    return this.#parseList(response).some((message) => sentTo(message).some((recipient) => normaliseAddress(recipient) === normalised));
  }

  async createDraft(input: DraftInput): Promise<Draft> {
    // The marks can only be set at creation, like the key: a draft to be marked otherwise is made anew.
    const headers = graphDraftHeaders(input.idempotencyKey, input.autoSubmitted ?? null);
    const content = {
      toRecipients: recipients(input.to),
      ccRecipients: recipients(input.cc ?? []),
      // Graph keeps one body: the HTML alternative when there is one, otherwise the text.
      body: input.html === undefined ? { contentType: 'Text', content: input.body } : { contentType: 'HTML', content: input.html },
    };
    let created: unknown;
    if (input.inReplyTo === undefined) {
      created = await this.#call('messages.create', () =>
        this.#request('/me/messages').post({ ...content, subject: input.subject.replace(/[\r\n]+/g, ' '), internetMessageHeaders: headers }),
      );
    } else {
      const inReplyTo = input.inReplyTo;
      // createReply threads the draft (conversation, In-Reply-To, References); the headers can only be
      // set at creation, so they go with it and the content follows in a PATCH.
      const reply = graphMessageSchema.parse(
        await this.#call('messages.createReply', () =>
          this.#request(`/me/messages/${encodeURIComponent(inReplyTo)}/createReply`).post({ message: { internetMessageHeaders: headers } }),
        ),
      );
      try {
        created = await this.#call('messages.update', () =>
          this.#request(`/me/messages/${encodeURIComponent(reply.id)}`).patch({ ...content, subject: replySubject(input.subject) }),
        );
      } catch (error) {
        // The reply exists without its content: left, every retry would add another empty threaded draft
        // to the client's Drafts. The content's own failure is what the caller must see, so a failed
        // clean-up does not replace it.
        await this.deleteDraft(reply.id).catch(() => undefined);
        throw error;
      }
    }
    return this.getDraft(this.#parseMessage(created).id);
  }

  async updateDraft(draftId: string, update: DraftUpdate): Promise<Draft> {
    const patch: Record<string, unknown> = {};
    if (update.to !== undefined) patch['toRecipients'] = recipients(update.to);
    if (update.cc !== undefined) patch['ccRecipients'] = recipients(update.cc);
    if (update.subject !== undefined) patch['subject'] = update.subject.replace(/[\r\n]+/g, ' ');
    if (update.body !== undefined) patch['body'] = { contentType: 'Text', content: update.body };
    await this.#call('messages.update', () => this.#request(`/me/messages/${encodeURIComponent(draftId)}`).patch(patch));
    return this.getDraft(draftId);
  }

  async getDraft(draftId: string): Promise<Draft> {
    const path = `/me/messages/${encodeURIComponent(draftId)}`;
    const message = this.#parseMessage(
      await this.#call('messages.get', () =>
        this.#request(path).select(`${MESSAGE_FIELDS},bccRecipients`).expand(`singleValueExtendedProperties($filter=id eq '${NATIVE_BODY_PROPERTY}')`).get(),
      ),
    );
    // Graph serves any body as HTML unless asked for text, so how the body is stored comes from the
    // native body property: a text body has no HTML part; an HTML (or RTF, or unknown) one is read as HTML.
    let html: string | null = null;
    if (nativeBodyOf(message) !== 'text') {
      const rendered = this.#parseMessage(await this.#call('messages.get', () => this.#request(path, 'html').select('id,body').get()));
      html = rendered.body?.content ?? '';
    }
    // hasAttachments leaves inline attachments out: the collection lists them all.
    const attachments = attachmentCount(await this.#call('attachments.list', () => this.#request(`${path}/attachments`).select('id').get()));
    return toDraft(message, { html, attachments });
  }

  async deleteDraft(draftId: string): Promise<void> {
    await this.#call('messages.delete', () => this.#request(`/me/messages/${encodeURIComponent(draftId)}`).delete());
  }

  async sendDraft(draftId: string): Promise<SentMessage> {
    if (!this.#config.canSend) throw new FleetError('forbidden', 'sending is not granted (mail.send)');
    const draft = await this.getDraft(draftId);
    await this.#call('messages.send', () => this.#request(`/me/messages/${encodeURIComponent(draftId)}/send`).post({}));
    this.#logger.info('graph draft sent', { op: 'send' });
    // Graph answers 202 without the sent message; look it up by its key (it may take a moment to appear).
    const found = draft.idempotencyKey === null ? null : await this.findSentByIdempotencyKey(draft.idempotencyKey);
    return found ?? { id: null, threadId: draft.threadId, idempotencyKey: draft.idempotencyKey };
  }

  async findSentByIdempotencyKey(key: string): Promise<SentMessage | null> {
    assertIdempotencyKey(key);
    const response: unknown = await this.#call('sentitems.list', () =>
      this.#request('/me/mailFolders/sentitems/messages')
        .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${HEADER_PROPERTY}' and ep/value eq '${key}')`)
        .select('id,conversationId')
        .top(1)
        .get(),
    );
    const [first] = this.#parseList(response);
    return first === undefined ? null : { id: first.id, threadId: first.conversationId ?? null, idempotencyKey: key };
  }

  async label(id: string, label: string): Promise<void> {
    const name = label.trim();
    if (name === '' || name.length > 255) throw new FleetError('invalid_input', 'category name must be 1-255 characters');
    const current = graphMessageSchema.parse(
      await this.#call('messages.get', () => this.#request(`/me/messages/${encodeURIComponent(id)}`).select('id,categories').get()),
    );
    const categories = current.categories ?? [];
    if (categories.some((c) => c.toLowerCase() === name.toLowerCase())) return;
    await this.#call('messages.update', () =>
      this.#request(`/me/messages/${encodeURIComponent(id)}`).patch({ categories: [...categories, name] }),
    );
  }

  async archive(id: string): Promise<void> {
    await this.#call('messages.move', () =>
      this.#request(`/me/messages/${encodeURIComponent(id)}/move`).post({ destinationId: 'archive' }),
    );
  }

  async markRead(id: string): Promise<void> {
    await this.#call('messages.update', () => this.#request(`/me/messages/${encodeURIComponent(id)}`).patch({ isRead: true }));
  }

  async watch(target: WatchTarget): Promise<MailWatch> {
    if (target.kind !== 'outlook') throw new FleetError('invalid_input', 'a Graph subscription needs a notification URL target');
    const createdAt = new Date();
    // Graph validates both URLs (validationToken echo) before it answers. Immutable ids: a subscription's
    // notifications name messages in the id format it was created with, for as long as it lives.
    const created: unknown = await this.#call('subscriptions.create', () =>
      this.#graph.client.api('/subscriptions').header('Prefer', IMMUTABLE_IDS).post({
        changeType: 'created',
        notificationUrl: target.notificationUrl,
        lifecycleNotificationUrl: target.lifecycleNotificationUrl,
        resource: INBOX_RESOURCE,
        expirationDateTime: subscriptionExpiry(createdAt, target.lifetimeMinutes),
        clientState: target.clientState,
      }),
    );
    const subscription = parseSubscription(created);
    this.#logger.info('graph subscription created', { op: 'watch' });
    return { id: subscription.id, kind: 'outlook', createdAt: createdAt.toISOString(), expiresAt: subscription.expiresAt };
  }

  async renewWatch(watch: MailWatch, target: WatchTarget): Promise<MailWatch> {
    if (target.kind !== 'outlook' || watch.kind !== 'outlook') throw new FleetError('invalid_input', 'not a Graph subscription');
    const path = subscriptionPath(watch);
    const createdAt = new Date();
    const renewed: unknown = await this.#call('subscriptions.renew', () =>
      this.#graph.client.api(path).patch({ expirationDateTime: subscriptionExpiry(createdAt, target.lifetimeMinutes) }),
    );
    const subscription = parseSubscription(renewed);
    return { id: watch.id, kind: 'outlook', createdAt: createdAt.toISOString(), expiresAt: subscription.expiresAt };
  }

  async unwatch(watch: MailWatch): Promise<void> {
    const path = subscriptionPath(watch);
    try {
      await this.#call('subscriptions.delete', () => this.#graph.client.api(path).delete());
    } catch (error) {
      if (!(error instanceof FleetError && error.code === 'not_found')) throw error;
    }
    this.#logger.info('graph subscription deleted', { op: 'unwatch' });
  }

  // ---- internals -----------------------------------------------------------------------------------

  /** A request with immutable ids (so a move does not change an id we stored) and text bodies (or HTML ones). */
  #request(path: string, body: 'text' | 'html' = 'text'): GraphRequest {
    return this.#graph.client
      .api(path)
      .header('Prefer', `${IMMUTABLE_IDS}, outlook.body-content-type="${body}", odata.maxpagesize=${this.#config.pageSize ?? 50}`);
  }

  /**
   * Follows nextLinks to the deltaLink; collects up to `limit` new message ids, each once. Every link
   * followed or kept must be this inbox's delta (isInboxDeltaLink), and a link met twice in one round
   * ends it at once: paging that loops would otherwise cost thousands of requests before the page bound.
   * After `maxPages` pages the round ends with the nextLink as the cursor (every id of the pages read
   * collected): only a round that goes on from a cursor may stop so, since a nextLink of a baseline would
   * list the whole inbox as new.
   */
  async #deltaRound(cursor: string | null, limit: number, maxPages: number): Promise<{ ids: string[]; link: string }> {
    const ids: string[] = [];
    const seen = new Set<string>();
    const followed = new Set<string>(cursor === null ? [] : [cursor]);
    let link: string | null = cursor;
    for (let pages = 0; pages < DELTA_PAGES_TO_END; pages++) {
      // Links carry the query of the first request; only that one names the fields.
      const request = link === null ? this.#request(`${DELTA_PATH}?changeType=created`).select('id') : this.#request(this.#graph.relative(link));
      const page = deltaPage(await this.#call('messages.delta', () => request.get()));
      for (const item of page.items) {
        if (typeof item.id !== 'string' || item['@removed'] !== undefined || seen.has(item.id) || ids.length >= limit) continue;
        seen.add(item.id);
        ids.push(item.id);
      }
      if (page.deltaLink !== null) {
        if (!isInboxDeltaLink(page.deltaLink, this.#graph.root)) throw new FleetError('integrity', 'graph answered a deltaLink that is not the inbox delta');
        return { ids, link: page.deltaLink };
      }
      if (page.nextLink === null) throw new FleetError('integrity', 'graph delta page without nextLink or deltaLink');
      if (!isInboxDeltaLink(page.nextLink, this.#graph.root)) throw new FleetError('integrity', 'graph answered a nextLink that is not the inbox delta');
      if (followed.has(page.nextLink)) throw new FleetError('integrity', 'graph delta paging repeated a nextLink');
      if (pages + 1 >= maxPages && cursor !== null) return { ids, link: page.nextLink };
      followed.add(page.nextLink);
      link = page.nextLink;
    }
    throw new FleetError('integrity', 'graph delta did not end');
  }

  /**
   * The id of Sent Items, which holds only what the mailbox sent: a thread entry there is the client's own
   * (GRAPH_SENT_LABEL), while one elsewhere that merely names the client's address as From may be forged.
   * Null when it cannot be read now (not kept: the next read asks again): the messages then carry no sent
   * mark, so none of them counts as proven own mail, which is the safe side, and the reads still work.
   */
  async #sentItemsId(): Promise<string | null> {
    this.#sentItems ??= this.#call('mailFolders.get', () => this.#request('/me/mailFolders/sentitems').select('id').get()).then((folder: unknown) => {
      const id = (folder as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') throw new FleetError('integrity', 'graph answered a mail folder in an unexpected shape');
      return id;
    });
    try {
      return await this.#sentItems;
    } catch (error) {
      this.#sentItems = undefined;
      this.#logger.warn('the Sent Items folder could not be read; no message is marked as sent by the mailbox', {
        op: 'mailFolders.get',
        code: error instanceof FleetError ? error.code : 'unknown',
      });
      return null;
    }
  }

  /** One message with the fields every read uses. */
  async #readMessage(id: string, maxResponseBytes: number): Promise<GraphMessage> {
    return this.#parseMessage(
      await this.#call('messages.get', () => this.#request(`/me/messages/${encodeURIComponent(id)}`).select(MESSAGE_FIELDS).get(), maxResponseBytes),
    );
  }

  #parseMessage(value: unknown): GraphMessage {
    const parsed = graphMessageSchema.safeParse(value);
    if (!parsed.success) throw new FleetError('integrity', 'graph answered a message in an unexpected shape');
    return parsed.data;
  }

  #parseList(value: unknown): GraphMessage[] {
    return listOf(value).map((item) => this.#parseMessage(item));
  }

  /** One Graph request; its answer is read up to `maxResponseBytes` (default MESSAGE_MAX_BYTES) and no further. */
  async #call<T>(operation: string, request: () => Promise<T>, maxResponseBytes: number = MESSAGE_MAX_BYTES): Promise<T> {
    this.#logger.debug('graph request', { op: operation });
    return callGraphApi(operation, request, { maxResponseBytes });
  }
}

import {
  HttpEmulator,
  json,
  randomId,
  type EmulatorRequest,
  type EmulatorResponse,
} from './http-emulator.ts';
import { GraphSubscriptions } from './graph-subscriptions.ts';
import { AuthorizationCodeFlow } from './oauth-authorization-code.ts';
import { GraphCalendarRoutes } from './graph-calendar-routes.ts';
import { UnsupportedQuery, graphError, notFound, parseJson, renderGraphMessage } from './graph-emulator-support.ts';
import { GraphAttachmentRoutes } from './graph-attachment-routes.ts';
import type { GraphHeader, StoredMessage } from './graph-message-types.ts';
import { GraphFolderRoutes, INBOX_DELTA_PATH, type InboxEvent, type InboxLog } from './graph-folder-routes.ts';
import { GraphWriteRoutes, moveMessage } from './graph-write-routes.ts';
import { GraphMessageStore, newRestId } from './graph-message-store.ts';
import { MicrosoftTokenEndpoint } from './microsoft-token-endpoint.ts';
import { GRAPH_MAX_RECEIVE_BYTES, addressList, storedFromMime } from './graph-mime-delivery.ts';

/**
 * Microsoft Graph v1.0 (the mail part) + the Microsoft identity platform token endpoint, on loopback.
 * Strict where Graph is strict: bearer tokens and scopes, internetMessageHeaders only `x-` names and only
 * on create, body/recipients editable only on drafts, ids change on move unless immutable ids are asked
 * for, delta tokens expire (410 SyncStateNotFound), throttling with 429 + Retry-After.
 */


export interface GraphSentRecord {
  id: string;
  conversationId: string;
  subject: string;
  text: string;
  html: string | null;
  to: string[];
  cc: string[];
  bcc: string[];
  /** The attachments that went with it (content aside). */
  attachments: { name: string; contentType: string; size: number; isInline: boolean }[];
  inReplyTo: string | null;
  internetMessageHeaders: GraphHeader[];
}

export interface GraphSeedMessage {
  from: string;
  fromName?: string;
  to: string[];
  subject: string;
  text: string;
  /** Extra headers; `Cc` and `Reply-To` among them also fill ccRecipients and replyTo, as Exchange parses them. */
  headers?: Record<string, string>;
}

/** Graph's cap on one REST request's body (sendMail, a message with its body, an attachment): 413 above it. */
export const GRAPH_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

const READ = ['Mail.Read', 'Mail.ReadWrite'];
const WRITE = ['Mail.ReadWrite'];
const SEND = ['Mail.Send'];

export class GraphEmulator {
  readonly mailbox: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Consent page at /{tenant}/oauth2/v2.0/authorize and `grant_type=authorization_code`; tests set its behaviour. */
  readonly authorizationCodes: AuthorizationCodeFlow;
  readonly tenant: string;
  readonly sent: GraphSentRecord[] = [];
  /** Calendar routes, same tokens: `calendar.addBusy(...)`, `calendar.events()`. */
  readonly calendar = new GraphCalendarRoutes(() => this.#http.url);
  /** Change-notification subscriptions: `subscriptions.list()`, `.sendLifecycle(...)`, `.deliveries`. */
  readonly subscriptions: GraphSubscriptions;
  readonly #http: HttpEmulator;
  readonly #tokens: MicrosoftTokenEndpoint;
  readonly #writes: GraphWriteRoutes;
  readonly #attachments: GraphAttachmentRoutes;
  readonly #messages = new GraphMessageStore();
  readonly #log: InboxLog = { events: [], seq: 0, generation: 1 };
  readonly #folders: GraphFolderRoutes;
  #throttle = { remaining: 0, retryAfterSeconds: 0 };

  constructor(options: { mailbox?: string; tenant?: string } = {}) {
    this.mailbox = options.mailbox ?? 'agent@acme.example';
    this.tenant = options.tenant ?? 'acme-tenant';
    this.clientId = 'emulator-app-id';
    this.clientSecret = 'emulator-app-secret';
    this.subscriptions = new GraphSubscriptions({ error: graphError, tenant: this.tenant, mailbox: this.mailbox });
    this.#http = new HttpEmulator((request) => this.#handle(request));
    this.authorizationCodes = new AuthorizationCodeFlow({ clientId: this.clientId, dialect: 'microsoft' });
    this.#folders = new GraphFolderRoutes(this.#messages, this.#log, () => this.#http.url);
    this.#tokens = new MicrosoftTokenEndpoint({ clientId: this.clientId, clientSecret: this.clientSecret, codes: this.authorizationCodes, account: this.mailbox });
    this.#attachments = new GraphAttachmentRoutes(this.#messages);
    this.#writes = new GraphWriteRoutes({ messages: this.#messages, mailbox: this.mailbox, sent: this.sent, event: (id, type) => this.#event(id, type) });
  }

  get requests() {
    return this.#http.requests;
  }

  /** Graph base URL without version, e.g. http://127.0.0.1:1234 (the SDK appends /v1.0). */
  get baseUrl(): string {
    return this.#http.url;
  }

  get tokenUrl(): string {
    return `${this.#http.url}/${this.tenant}/oauth2/v2.0/token`;
  }

  start(options: { host?: string; port?: number } = {}): Promise<string> {
    return this.#http.start(options);
  }

  stop(): Promise<void> {
    return this.#http.stop();
  }

  // ---- test controls -------------------------------------------------------------------------------

  issueRefreshToken(scopes: string[]): string {
    return this.#tokens.issueRefreshToken(scopes);
  }

  revokeConsent(): void {
    this.#tokens.revokeAll();
  }

  invalidateAccessTokens(): void {
    this.#tokens.invalidateAccessTokens();
  }

  /** Every delta token issued so far stops working (410 SyncStateNotFound). */
  expireDeltaTokens(): void {
    this.#log.generation++;
  }

  throttle(count: number, retryAfterSeconds: number): void {
    this.#throttle = { remaining: count, retryAfterSeconds };
  }

  /** Sequence number inside a delta link, for cursor-ordering assertions. */
  static deltaSequenceOf(link: string): number {
    const token = new URL(link).searchParams.get('$deltatoken') ?? '';
    return (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { seq: number }).seq;
  }

  /** Drafts in the mailbox now. */
  draftCount(): number {
    return [...this.#messages.values()].filter((message) => message.isDraft).length;
  }

  /** The message by either of its ids (immutable or REST). */
  message(id: string): Readonly<StoredMessage> | undefined {
    return this.#messages.get(id);
  }

  /**
   * The mailbox's owner moves a message in Outlook (emulator-only): as any move, it gets a new REST id
   * and keeps its immutable id, and the inbox's delta sees it leave or arrive.
   */
  moveInMailbox(id: string, folder: StoredMessage['folder']): void {
    const message = this.#messages.get(id);
    if (message === undefined) throw new Error(`no message ${id}`);
    moveMessage(message, folder, (messageId, type) => this.#event(messageId, type));
  }

  seedInbound(seed: GraphSeedMessage): { id: string; conversationId: string; internetMessageId: string } {
    const headerValue = (name: string) => Object.entries(seed.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
    const message: StoredMessage = {
      id: `AAMk${randomId()}`,
      restId: newRestId(),
      conversationId: `AAQk${randomId()}`,
      internetMessageId: `<${randomId('seed-')}@sender.example>`,
      subject: seed.subject,
      text: seed.text,
      from: { emailAddress: { address: seed.from, ...(seed.fromName === undefined ? {} : { name: seed.fromName }) } },
      toRecipients: seed.to.map((address) => ({ emailAddress: { address } })),
      ccRecipients: addressList(headerValue('cc') ?? ''),
      bccRecipients: [],
      replyTo: addressList(headerValue('reply-to') ?? ''),
      receivedDateTime: new Date().toISOString(),
      sentDateTime: new Date().toISOString(),
      isDraft: false,
      isRead: false,
      categories: [],
      folder: 'inbox',
      internetMessageHeaders: Object.entries(seed.headers ?? {}).map(([name, value]) => ({ name, value })),
      inReplyTo: null,
      attachments: [],
    };
    this.#messages.set(message.id, message);
    this.#event(message.id, 'created');
    return { id: message.id, conversationId: message.conversationId, internetMessageId: message.internetMessageId };
  }

  /**
   * Delivers raw RFC 5322 bytes to the inbox as if received over SMTP (emulator-only: Graph has no such
   * API). Every header is kept, in order, in internetMessageHeaders. Throws what Exchange would refuse.
   * Also served at `POST /_emulator/inbox/mime` with `{ "raw": "<base64url>" }`.
   */
  async deliverRaw(raw: Buffer): Promise<{ id: string; conversationId: string; internetMessageId: string }> {
    const message = await storedFromMime(raw, (referenced) => {
      for (const stored of this.#messages.values()) if (referenced.includes(stored.internetMessageId)) return stored.conversationId;
      return null;
    });
    this.#messages.set(message.id, message);
    this.#event(message.id, 'created');
    return { id: message.id, conversationId: message.conversationId, internetMessageId: message.internetMessageId };
  }

  // ---- HTTP ----------------------------------------------------------------------------------------

  async #handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    try {
      return await this.#route(request);
    } catch (error) {
      if (error instanceof UnsupportedQuery) return graphError(400, 'BadRequest', error.message);
      throw error;
    }
  }

  #route(request: EmulatorRequest): EmulatorResponse | Promise<EmulatorResponse> {
    const path = request.url.pathname;
    if (path === `/${this.tenant}/oauth2/v2.0/token`) return this.#tokens.handle(request);
    if (path === `/${this.tenant}/oauth2/v2.0/authorize`) return this.authorizationCodes.authorize(request);
    if (path === '/_emulator/inbox/mime' && request.method === 'POST') return this.#deliverRoute(request.body);
    const access = this.#tokens.authenticate(request);
    if ('status' in access) return access;
    if (this.#throttle.remaining > 0) {
      this.#throttle.remaining--;
      return {
        ...graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'),
        headers: { 'retry-after': String(this.#throttle.retryAfterSeconds) },
      };
    }
    const need = (scopes: string[]): EmulatorResponse | null =>
      access.scopes.some((s) => scopes.includes(s)) ? null : graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    if (path.startsWith('/v1.0/') && Buffer.byteLength(request.body) > GRAPH_MAX_REQUEST_BYTES) {
      return graphError(413, 'ErrorRequestEntityTooLarge', 'The maximum request length supported is 4MB.');
    }
    // A body that is not a JSON object fails the request before any route reads it (Graph: RequestBodyRead).
    if ((request.method === 'POST' || request.method === 'PATCH') && path.startsWith('/v1.0/') && request.body.trim() !== '' && parseJson(request.body) === null) {
      return graphError(400, 'RequestBodyRead', 'Invalid JSON in the request body: an object was expected.');
    }
    const route = `${request.method} ${path}`;
    const query = request.url.searchParams;
    const prefer = String(request.headers.prefer ?? '');
    const body = (): Record<string, unknown> | null => parseJson(request.body);
    let m: RegExpExecArray | null;

    if (this.subscriptions.owns(path)) return need(READ) ?? this.subscriptions.handle(request.method, path, request.body, prefer);
    if (request.method === 'GET' && INBOX_DELTA_PATH.test(path)) return need(READ) ?? this.#folders.delta(query, prefer);
    if ((m = /^GET \/v1\.0\/me\/mailFolders\/(\w+)\/messages$/.exec(route))) return need(READ) ?? this.#folders.list(m[1] ?? '', query, prefer);
    if ((m = /^GET \/v1\.0\/me\/mailFolders\/([^/]+)$/.exec(route))) return need(READ) ?? this.#folders.folder(decodeURIComponent(m[1] ?? ''), query);
    if (route === 'GET /v1.0/me/messages') return need(READ) ?? this.#conversation(query, prefer);
    if (route === 'POST /v1.0/me/messages') return need(WRITE) ?? this.#writes.create(body(), prefer);
    if ((m = /^GET \/v1\.0\/me\/messages\/([^/]+)$/.exec(route))) return need(READ) ?? this.#get(m[1] ?? '', query, prefer);
    if ((m = /^PATCH \/v1\.0\/me\/messages\/([^/]+)$/.exec(route))) return need(WRITE) ?? this.#writes.patch(m[1] ?? '', body(), query, prefer);
    if ((m = /^DELETE \/v1\.0\/me\/messages\/([^/]+)$/.exec(route))) return need(WRITE) ?? this.#writes.delete(m[1] ?? '');
    if ((m = /^POST \/v1\.0\/me\/messages\/([^/]+)\/createReply$/.exec(route))) return need(WRITE) ?? this.#writes.createReply(m[1] ?? '', body(), prefer);
    if ((m = /^POST \/v1\.0\/me\/messages\/([^/]+)\/send$/.exec(route))) return need(SEND) ?? this.#writes.send(m[1] ?? '');
    if ((m = /^POST \/v1\.0\/me\/messages\/([^/]+)\/move$/.exec(route))) return need(WRITE) ?? this.#writes.move(m[1] ?? '', body(), prefer);
    if ((m = /^POST \/v1\.0\/me\/messages\/([^/]+)\/attachments$/.exec(route))) return need(WRITE) ?? this.#attachments.add(m[1] ?? '', body());
    if ((m = /^GET \/v1\.0\/me\/messages\/([^/]+)\/attachments$/.exec(route))) return need(READ) ?? this.#attachments.list(m[1] ?? '', query);
    if ((m = /^DELETE \/v1\.0\/me\/messages\/([^/]+)\/attachments\/([^/]+)$/.exec(route))) return need(WRITE) ?? this.#attachments.delete(m[1] ?? '', m[2] ?? '');
    if (this.calendar.owns(path)) return this.calendar.handle(request.method, path, query, request.body, prefer, access.scopes, request.headers);
    return graphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').at(-1) ?? ''}'.`);
  }

  async #deliverRoute(body: string): Promise<EmulatorResponse> {
    const raw = (parseJson(body) ?? {})['raw'];
    const bytes = typeof raw === 'string' && /^[A-Za-z0-9_-]+={0,2}$/.test(raw) ? Buffer.from(raw, 'base64url') : null;
    if (bytes === null) return graphError(400, 'RequestBodyRead', 'raw must be the message, base64url-encoded.');
    if (bytes.length > GRAPH_MAX_RECEIVE_BYTES) return graphError(413, 'ErrorMessageSizeExceeded', 'The message exceeds the maximum supported size.');
    try {
      return json(201, await this.deliverRaw(bytes));
    } catch (error) {
      return graphError(400, 'ErrorMimeContentConversionFailed', error instanceof Error ? error.message : 'invalid MIME');
    }
  }





  /**
   * A conversation's messages: `conversationId eq '…'`, optionally after `receivedDateTime ge <time> and`.
   * As Graph, `$orderby` must name a property the filter names first (else 400 InefficientFilter); without
   * it the order is the store's, which callers must not rely on.
   */
  #conversation(query: URLSearchParams, prefer: string): EmulatorResponse {
    const match = /^(?:receivedDateTime ge (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) and )?conversationId eq '((?:[^']|'')*)'$/.exec(query.get('$filter') ?? '');
    if (match === null) return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
    const since = match[1];
    const conversationId = (match[2] ?? '').replaceAll("''", "'");
    const orderby = query.get('$orderby');
    const order = orderby === null ? null : /^receivedDateTime( asc| desc)?$/.exec(orderby.trim());
    if (orderby !== null && (order === null || since === undefined)) {
      return graphError(400, 'InefficientFilter', 'The restriction or sort order is too complex for this operation.');
    }
    const top = Number(query.get('$top') ?? '10');
    if (!Number.isInteger(top) || top < 1 || top > 1000) return graphError(400, 'ErrorInvalidUrlQuery', 'Invalid $top.');
    const descending = order?.[1] === ' desc';
    const messages = [...this.#messages.values()]
      .filter((msg) => msg.conversationId === conversationId && (since === undefined || msg.receivedDateTime >= since))
      .sort((a, b) => (descending ? b.receivedDateTime.localeCompare(a.receivedDateTime) : a.receivedDateTime.localeCompare(b.receivedDateTime)));
    return json(200, { value: messages.slice(0, top).map((msg) => renderGraphMessage(msg, query, prefer)) });
  }

  #get(id: string, query: URLSearchParams, prefer: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    return json(200, renderGraphMessage(message, query, prefer));
  }







  #event(messageId: string, type: InboxEvent['type']): void {
    const restId = this.#messages.get(messageId)?.restId ?? messageId;
    this.#log.events.push({ seq: ++this.#log.seq, messageId, restId, type });
    if (type === 'created') this.subscriptions.messageCreated({ id: messageId, restId });
  }

}

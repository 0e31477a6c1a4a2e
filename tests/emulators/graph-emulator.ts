import {
  HttpEmulator,
  bearerToken,
  json,
  randomId,
  type EmulatorRequest,
  type EmulatorResponse,
} from './http-emulator.ts';
import { GraphSubscriptions } from './graph-subscriptions.ts';
import { AuthorizationCodeFlow } from './oauth-authorization-code.ts';
import { GraphCalendarRoutes } from './graph-calendar-routes.ts';

/**
 * Microsoft Graph v1.0 (the mail part) + the Microsoft identity platform token endpoint, on loopback.
 * Strict where Graph is strict: bearer tokens and scopes, internetMessageHeaders only `x-` names and only
 * on create, body/recipients editable only on drafts, ids change on move unless immutable ids are asked
 * for, delta tokens expire (410 SyncStateNotFound), throttling with 429 + Retry-After.
 */

interface Recipient {
  emailAddress: { address: string; name?: string };
}

interface GraphHeader {
  name: string;
  value: string;
}

interface StoredMessage {
  id: string;
  conversationId: string;
  internetMessageId: string;
  subject: string;
  text: string;
  /** The body as sent when its content type was HTML. */
  html?: string | null;
  from: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  receivedDateTime: string;
  sentDateTime: string | null;
  isDraft: boolean;
  isRead: boolean;
  categories: string[];
  folder: 'inbox' | 'drafts' | 'sentitems' | 'archive';
  internetMessageHeaders: GraphHeader[];
  /** internetMessageId of the message a createReply draft answers. */
  inReplyTo: string | null;
}

interface InboxEvent {
  seq: number;
  messageId: string;
  type: 'created' | 'updated' | 'deleted';
}

export interface GraphSentRecord {
  id: string;
  conversationId: string;
  subject: string;
  text: string;
  html: string | null;
  to: string[];
  cc: string[];
  inReplyTo: string | null;
  internetMessageHeaders: GraphHeader[];
}

export interface GraphSeedMessage {
  from: string;
  fromName?: string;
  to: string[];
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

const EXT_HEADER_PROPERTY = /^singleValueExtendedProperties\/Any\(ep: ?ep\/id eq 'String \{00020386-0000-0000-C000-000000000046\} Name ([A-Za-z0-9-]+)' and ep\/value eq '((?:[^']|'')*)'\)$/i;
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
  readonly #refreshTokens = new Map<string, { status: 'active' | 'rotated' | 'revoked'; scopes: string[] }>();
  readonly #accessTokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  readonly #messages = new Map<string, StoredMessage>();
  #events: InboxEvent[] = [];
  #seq = 0;
  #deltaGeneration = 1;
  #throttle = { remaining: 0, retryAfterSeconds: 0 };

  constructor(options: { mailbox?: string; tenant?: string } = {}) {
    this.mailbox = options.mailbox ?? 'agent@acme.example';
    this.tenant = options.tenant ?? 'acme-tenant';
    this.clientId = 'emulator-app-id';
    this.clientSecret = 'emulator-app-secret';
    this.subscriptions = new GraphSubscriptions({ error: graphError, tenant: this.tenant, mailbox: this.mailbox });
    this.#http = new HttpEmulator((request) => this.#handle(request));
    this.authorizationCodes = new AuthorizationCodeFlow({ clientId: this.clientId, dialect: 'microsoft' });
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
    const token = `M.R3_${randomId()}`;
    this.#refreshTokens.set(token, { status: 'active', scopes });
    return token;
  }

  revokeConsent(): void {
    for (const state of this.#refreshTokens.values()) state.status = 'revoked';
    this.#accessTokens.clear();
  }

  invalidateAccessTokens(): void {
    this.#accessTokens.clear();
  }

  /** Every delta token issued so far stops working (410 SyncStateNotFound). */
  expireDeltaTokens(): void {
    this.#deltaGeneration++;
  }

  throttle(count: number, retryAfterSeconds: number): void {
    this.#throttle = { remaining: count, retryAfterSeconds };
  }

  /** Sequence number inside a delta link, for cursor-ordering assertions. */
  static deltaSequenceOf(link: string): number {
    const token = new URL(link).searchParams.get('$deltatoken') ?? '';
    return (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { seq: number }).seq;
  }

  message(id: string): Readonly<StoredMessage> | undefined {
    return this.#messages.get(id);
  }

  seedInbound(seed: GraphSeedMessage): { id: string; conversationId: string; internetMessageId: string } {
    const message: StoredMessage = {
      id: `AAMk${randomId()}`,
      conversationId: `AAQk${randomId()}`,
      internetMessageId: `<${randomId('seed-')}@sender.example>`,
      subject: seed.subject,
      text: seed.text,
      from: { emailAddress: { address: seed.from, ...(seed.fromName === undefined ? {} : { name: seed.fromName }) } },
      toRecipients: seed.to.map((address) => ({ emailAddress: { address } })),
      ccRecipients: [],
      receivedDateTime: new Date().toISOString(),
      sentDateTime: new Date().toISOString(),
      isDraft: false,
      isRead: false,
      categories: [],
      folder: 'inbox',
      internetMessageHeaders: Object.entries(seed.headers ?? {}).map(([name, value]) => ({ name, value })),
      inReplyTo: null,
    };
    this.#messages.set(message.id, message);
    this.#event(message.id, 'created');
    return { id: message.id, conversationId: message.conversationId, internetMessageId: message.internetMessageId };
  }

  // ---- HTTP ----------------------------------------------------------------------------------------

  #handle(request: EmulatorRequest): EmulatorResponse | Promise<EmulatorResponse> {
    const path = request.url.pathname;
    if (path === `/${this.tenant}/oauth2/v2.0/token`) return this.#token(request);
    if (path === `/${this.tenant}/oauth2/v2.0/authorize`) return this.authorizationCodes.authorize(request);
    const access = this.#authenticate(request);
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
    const route = `${request.method} ${path}`;
    const query = request.url.searchParams;
    const prefer = String(request.headers.prefer ?? '');
    const body = (): Record<string, unknown> | null => parseJson(request.body);
    let m: RegExpExecArray | null;

    if (this.subscriptions.owns(path)) return need(READ) ?? this.subscriptions.handle(request.method, path, request.body);
    if (route === 'GET /v1.0/me/mailFolders/inbox/messages/delta') return need(READ) ?? this.#delta(query, prefer);
    if ((m = /^GET \/v1\.0\/me\/mailFolders\/(\w+)\/messages$/.exec(route))) return need(READ) ?? this.#list(m[1] ?? '', query, prefer);
    if (route === 'GET /v1.0/me/messages') return need(READ) ?? this.#conversation(query, prefer);
    if (route === 'POST /v1.0/me/messages') return need(WRITE) ?? this.#create(body(), prefer);
    if ((m = /^GET \/v1\.0\/me\/messages\/([^/]+)$/.exec(route))) return need(READ) ?? this.#get(m[1] ?? '', query, prefer);
    if ((m = /^PATCH \/v1\.0\/me\/messages\/([^/]+)$/.exec(route))) return need(WRITE) ?? this.#patch(m[1] ?? '', body(), query, prefer);
    if ((m = /^DELETE \/v1\.0\/me\/messages\/([^/]+)$/.exec(route))) return need(WRITE) ?? this.#delete(m[1] ?? '');
    if ((m = /^POST \/v1\.0\/me\/messages\/([^/]+)\/createReply$/.exec(route))) return need(WRITE) ?? this.#createReply(m[1] ?? '', body(), prefer);
    if ((m = /^POST \/v1\.0\/me\/messages\/([^/]+)\/send$/.exec(route))) return need(SEND) ?? this.#send(m[1] ?? '');
    if ((m = /^POST \/v1\.0\/me\/messages\/([^/]+)\/move$/.exec(route))) return need(WRITE) ?? this.#move(m[1] ?? '', body(), prefer);
    if (this.calendar.owns(path)) return this.calendar.handle(request.method, path, query, request.body, prefer, access.scopes);
    return graphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').at(-1) ?? ''}'.`);
  }

  #authenticate(request: EmulatorRequest): { scopes: string[] } | EmulatorResponse {
    const token = bearerToken(request.headers);
    if (token === null) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const access = this.#accessTokens.get(token);
    if (access === undefined || access.expiresAt <= Date.now()) {
      return graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    }
    return access;
  }

  #token(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'POST' || !String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return json(400, { error: 'invalid_request', error_description: "AADSTS900144: The request body must contain the following parameter: 'grant_type'." });
    }
    const form = new URLSearchParams(request.body);
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
    }
    if (form.get('grant_type') === 'authorization_code') {
      const grant = this.authorizationCodes.redeem(form);
      if ('status' in grant) return grant;
      // Graph answers with resource-qualified scopes and leaves offline_access out; the refresh token is its sign.
      const scopes = grant.scopes.filter((scope) => scope !== 'offline_access');
      const accessToken = `eyJ0eXAi.${randomId()}${randomId()}`;
      this.#accessTokens.set(accessToken, { scopes, expiresAt: Date.now() + 3600_000 });
      return json(200, {
        token_type: 'Bearer',
        scope: scopes.map((scope) => `https://graph.microsoft.com/${scope}`).join(' '),
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: accessToken,
        ...(grant.offline ? { refresh_token: this.issueRefreshToken(scopes) } : {}),
      });
    }
    if (form.get('grant_type') !== 'refresh_token') return json(400, { error: 'unsupported_grant_type' });
    const state = this.#refreshTokens.get(form.get('refresh_token') ?? '');
    if (state === undefined || state.status !== 'active') {
      return json(400, {
        error: 'invalid_grant',
        error_description: 'AADSTS70000: The provided grant has expired due to it being revoked.',
        error_codes: [70000],
      });
    }
    const requested = (form.get('scope') ?? '').split(' ').filter((s) => s !== '' && s !== 'offline_access');
    const scopes = requested.length === 0 ? state.scopes : requested.filter((s) => state.scopes.includes(s));
    const accessToken = `eyJ0eXAi.${randomId()}${randomId()}`;
    this.#accessTokens.set(accessToken, { scopes, expiresAt: Date.now() + 3600_000 });
    state.status = 'rotated';
    return json(200, {
      token_type: 'Bearer',
      scope: scopes.join(' '),
      expires_in: 3600,
      ext_expires_in: 3600,
      access_token: accessToken,
      refresh_token: this.issueRefreshToken(state.scopes),
    });
  }

  #delta(query: URLSearchParams, prefer: string): EmulatorResponse {
    const changeType = query.get('changeType');
    if (changeType !== null && !['created', 'updated', 'deleted'].includes(changeType)) {
      return graphError(400, 'ErrorInvalidUrlQuery', `Invalid changeType '${changeType}'.`);
    }
    const pageSize = Number(/odata\.maxpagesize=(\d+)/.exec(prefer)?.[1] ?? '10');
    let from: number;
    let to: number;
    let offset = 0;
    let initial: boolean;
    const skip = query.get('$skiptoken');
    const delta = query.get('$deltatoken');
    try {
      if (skip !== null) {
        const state = decodeToken(skip) as { from: number; to: number; offset: number; initial: boolean; gen: number; changeType: string | null };
        if (state.gen !== this.#deltaGeneration) return syncStateGone();
        ({ from, to, offset, initial } = state);
      } else if (delta !== null) {
        const state = decodeToken(delta) as { seq: number; gen: number };
        if (state.gen !== this.#deltaGeneration) return syncStateGone();
        from = state.seq;
        to = this.#seq;
        initial = false;
      } else {
        from = 0;
        to = this.#seq;
        initial = true;
      }
    } catch {
      return graphError(400, 'ErrorInvalidUrlQuery', 'The delta token is malformed.');
    }
    const items: { id: string; removed: boolean }[] = initial
      ? [...this.#messages.values()].filter((msg) => msg.folder === 'inbox').map((msg) => ({ id: msg.id, removed: false }))
      : this.#events
          .filter((e) => e.seq > from && e.seq <= to && (changeType === null || e.type === changeType))
          .map((e) => ({ id: e.messageId, removed: e.type === 'deleted' }));
    const page = items.slice(offset, offset + pageSize);
    const value = page.map((item) => {
      const message = this.#messages.get(item.id);
      return item.removed || message === undefined
        ? { id: item.id, '@removed': { reason: 'deleted' } }
        : this.#render(message, query, prefer);
    });
    const base = `${this.#http.url}/v1.0/me/mailFolders/inbox/messages/delta`;
    if (offset + pageSize < items.length) {
      const next = encodeToken({ from, to, offset: offset + pageSize, initial, gen: this.#deltaGeneration, changeType });
      const suffix = changeType === null ? '' : `&changeType=${changeType}`;
      return json(200, { '@odata.context': 'emulator', '@odata.nextLink': `${base}?$skiptoken=${next}${suffix}`, value });
    }
    const token = encodeToken({ seq: to, gen: this.#deltaGeneration });
    const suffix = changeType === null ? '' : `&changeType=${changeType}`;
    return json(200, { '@odata.context': 'emulator', '@odata.deltaLink': `${base}?$deltatoken=${token}${suffix}`, value });
  }

  #list(folder: string, query: URLSearchParams, prefer: string): EmulatorResponse {
    if (!['inbox', 'drafts', 'sentitems', 'archive'].includes(folder.toLowerCase())) {
      return graphError(404, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    }
    let messages = [...this.#messages.values()].filter((msg) => msg.folder === folder.toLowerCase());
    const filter = query.get('$filter');
    if (filter !== null) {
      const match = EXT_HEADER_PROPERTY.exec(filter);
      if (match === null) return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
      const header = (match[1] ?? '').toLowerCase();
      const value = (match[2] ?? '').replaceAll("''", "'");
      messages = messages.filter((msg) => msg.internetMessageHeaders.some((h) => h.name.toLowerCase() === header && h.value === value));
    }
    const search = query.get('$search');
    if (search !== null) {
      const match = /^"to:([^"\s]+)"$/.exec(search);
      if (match === null) return graphError(400, 'ErrorInvalidUrlQuery', 'Unsupported $search in the emulator.');
      const address = (match[1] ?? '').toLowerCase();
      messages = messages.filter((msg) =>
        [...msg.toRecipients, ...msg.ccRecipients].some((r) => r.emailAddress.address.toLowerCase() === address),
      );
    }
    const top = Number(query.get('$top') ?? '10');
    messages.sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
    return json(200, { value: messages.slice(0, top).map((msg) => this.#render(msg, query, prefer)) });
  }

  #conversation(query: URLSearchParams, prefer: string): EmulatorResponse {
    const match = /^conversationId eq '((?:[^']|'')*)'$/.exec(query.get('$filter') ?? '');
    if (match === null) return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
    const conversationId = (match[1] ?? '').replaceAll("''", "'");
    const top = Number(query.get('$top') ?? '10');
    const messages = [...this.#messages.values()]
      .filter((msg) => msg.conversationId === conversationId)
      .sort((a, b) => a.receivedDateTime.localeCompare(b.receivedDateTime));
    return json(200, { value: messages.slice(0, top).map((msg) => this.#render(msg, query, prefer)) });
  }

  #get(id: string, query: URLSearchParams, prefer: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    return json(200, this.#render(message, query, prefer));
  }

  #create(body: Record<string, unknown> | null, prefer: string): EmulatorResponse {
    if (body === null) return graphError(400, 'RequestBodyRead', 'Invalid JSON in the request body.');
    const message: StoredMessage = {
      id: `AAMk${randomId()}`,
      conversationId: `AAQk${randomId()}`,
      internetMessageId: `<${randomId('draft-')}@${this.mailbox.split('@')[1] ?? 'example'}>`,
      subject: '',
      text: '',
      from: { emailAddress: { address: this.mailbox } },
      toRecipients: [],
      ccRecipients: [],
      receivedDateTime: new Date().toISOString(),
      sentDateTime: null,
      isDraft: true,
      isRead: true,
      categories: [],
      folder: 'drafts',
      internetMessageHeaders: [],
      inReplyTo: null,
    };
    const error = applyProperties(message, body, true);
    if (error !== null) return error;
    this.#messages.set(message.id, message);
    return json(201, this.#render(message, new URLSearchParams(), prefer));
  }

  #createReply(id: string, body: Record<string, unknown> | null, prefer: string): EmulatorResponse {
    const original = this.#messages.get(id);
    if (original === undefined) return notFound();
    const draft: StoredMessage = {
      id: `AAMk${randomId()}`,
      conversationId: original.conversationId,
      internetMessageId: `<${randomId('reply-')}@${this.mailbox.split('@')[1] ?? 'example'}>`,
      subject: `RE: ${original.subject}`,
      text: '',
      from: { emailAddress: { address: this.mailbox } },
      toRecipients: original.from === null ? [] : [original.from],
      ccRecipients: [],
      receivedDateTime: new Date().toISOString(),
      sentDateTime: null,
      isDraft: true,
      isRead: true,
      categories: [],
      folder: 'drafts',
      internetMessageHeaders: [],
      inReplyTo: original.internetMessageId,
    };
    const payload = body ?? {};
    for (const key of Object.keys(payload)) {
      if (key !== 'message' && key !== 'comment') return graphError(400, 'RequestBodyRead', `The parameter '${key}' in the request payload is not a valid parameter.`);
    }
    if (typeof payload['comment'] === 'string') draft.text = payload['comment'];
    const message = payload['message'];
    if (message !== undefined) {
      if (typeof message !== 'object' || message === null) return graphError(400, 'RequestBodyRead', 'message must be an object.');
      const error = applyProperties(draft, message as Record<string, unknown>, true);
      if (error !== null) return error;
    }
    this.#messages.set(draft.id, draft);
    return json(201, this.#render(draft, new URLSearchParams(), prefer));
  }

  #patch(id: string, body: Record<string, unknown> | null, query: URLSearchParams, prefer: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    if (body === null) return graphError(400, 'RequestBodyRead', 'Invalid JSON in the request body.');
    const editsContent = ['subject', 'body', 'toRecipients', 'ccRecipients'].some((k) => k in body);
    if (editsContent && !message.isDraft) {
      return graphError(400, 'ErrorInvalidPropertyUpdateSentMessage', 'Update operation is invalid for property of a sent message.');
    }
    const error = applyProperties(message, body, false);
    if (error !== null) return error;
    if (message.folder === 'inbox') this.#event(message.id, 'updated');
    return json(200, this.#render(message, query, prefer));
  }

  #delete(id: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    this.#messages.delete(id);
    if (message.folder === 'inbox') this.#event(id, 'deleted');
    return { status: 204 };
  }

  #send(id: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    if (!message.isDraft) return graphError(400, 'ErrorInvalidOperation', 'Only draft messages can be sent.');
    if (message.toRecipients.length + message.ccRecipients.length === 0) {
      return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid., Recipient is missing.');
    }
    message.isDraft = false;
    message.folder = 'sentitems';
    message.sentDateTime = new Date().toISOString();
    message.receivedDateTime = message.sentDateTime;
    this.sent.push({
      id: message.id,
      conversationId: message.conversationId,
      subject: message.subject,
      text: message.text,
      html: message.html ?? null,
      to: message.toRecipients.map((r) => r.emailAddress.address),
      cc: message.ccRecipients.map((r) => r.emailAddress.address),
      inReplyTo: message.inReplyTo,
      internetMessageHeaders: [...message.internetMessageHeaders],
    });
    return { status: 202 };
  }

  #move(id: string, body: Record<string, unknown> | null, prefer: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return notFound();
    const destination = body?.['destinationId'];
    if (typeof destination !== 'string' || !['inbox', 'archive', 'drafts', 'sentitems'].includes(destination.toLowerCase())) {
      return graphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    }
    if (message.folder === 'inbox') this.#event(message.id, 'deleted');
    message.folder = destination.toLowerCase() as StoredMessage['folder'];
    if (!/IdType="ImmutableId"/.test(prefer)) {
      this.#messages.delete(message.id);
      message.id = `AAMk${randomId()}`;
      this.#messages.set(message.id, message);
    }
    if (message.folder === 'inbox') this.#event(message.id, 'created');
    return json(201, this.#render(message, new URLSearchParams(), prefer));
  }

  #event(messageId: string, type: InboxEvent['type']): void {
    this.#events.push({ seq: ++this.#seq, messageId, type });
    if (type === 'created') this.subscriptions.messageCreated(messageId);
  }

  #render(message: StoredMessage, query: URLSearchParams, prefer: string): Record<string, unknown> {
    const asText = /outlook\.body-content-type="?text"?/.test(prefer);
    const full: Record<string, unknown> = {
      id: message.id,
      conversationId: message.conversationId,
      internetMessageId: message.internetMessageId,
      subject: message.subject,
      body: asText
        ? { contentType: 'text', content: message.text }
        : { contentType: 'html', content: `<html><body><p>${escapeHtml(message.text)}</p></body></html>` },
      bodyPreview: message.text.slice(0, 255),
      from: message.from,
      sender: message.from,
      toRecipients: message.toRecipients,
      ccRecipients: message.ccRecipients,
      receivedDateTime: message.receivedDateTime,
      sentDateTime: message.sentDateTime,
      isDraft: message.isDraft,
      isRead: message.isRead,
      categories: message.categories,
      parentFolderId: message.folder,
    };
    const select = query.get('$select');
    if (select === null) return full;
    const fields = select.split(',').map((f) => f.trim());
    const selected: Record<string, unknown> = { id: message.id };
    for (const field of fields) {
      if (field === 'internetMessageHeaders') selected[field] = message.internetMessageHeaders;
      else if (field in full) selected[field] = full[field];
    }
    return selected;
  }
}

/** Applies a message payload the way Graph does; unknown or read-only properties are refused. */
function applyProperties(message: StoredMessage, body: Record<string, unknown>, creating: boolean): EmulatorResponse | null {
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case 'subject':
        if (typeof value !== 'string') return invalidProperty(key);
        message.subject = value;
        break;
      case 'body': {
        const content = (value as { content?: unknown; contentType?: unknown } | null)?.content;
        const type = String((value as { contentType?: unknown } | null)?.contentType ?? '').toLowerCase();
        if (typeof content !== 'string' || (type !== 'text' && type !== 'html')) return invalidProperty(key);
        message.text = type === 'html' ? content.replace(/<[^>]*>/g, '') : content;
        message.html = type === 'html' ? content : null;
        break;
      }
      case 'toRecipients':
      case 'ccRecipients': {
        if (!Array.isArray(value) || !value.every(isRecipient)) return invalidProperty(key);
        message[key] = value.map((r) => ({ emailAddress: { address: r.emailAddress.address } }));
        break;
      }
      case 'categories':
        if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) return invalidProperty(key);
        message.categories = [...value];
        break;
      case 'isRead':
        if (typeof value !== 'boolean') return invalidProperty(key);
        message.isRead = value;
        break;
      case 'internetMessageHeaders': {
        if (!creating) return graphError(400, 'ErrorInvalidProperty', 'internetMessageHeaders can only be set when the message is created.');
        if (!Array.isArray(value) || !value.every((h) => typeof h?.name === 'string' && typeof h?.value === 'string')) return invalidProperty(key);
        for (const header of value as GraphHeader[]) {
          if (!/^x-/i.test(header.name)) {
            return graphError(400, 'InvalidInternetMessageHeader', `The internet message header name '${header.name}' should start with 'x-' or 'X-'.`);
          }
        }
        message.internetMessageHeaders = [...(value as GraphHeader[])];
        break;
      }
      default:
        return graphError(400, 'RequestBodyRead', `The property '${key}' does not exist on type 'microsoft.graph.message'.`);
    }
  }
  return null;
}

function isRecipient(value: unknown): value is Recipient {
  const address = (value as Recipient | null)?.emailAddress?.address;
  return typeof address === 'string' && /^[^\s@]+@[^\s@]+$/.test(address);
}

function invalidProperty(key: string): EmulatorResponse {
  return graphError(400, 'ErrorInvalidProperty', `Invalid value for property '${key}'.`);
}

function graphError(status: number, code: string, message: string): EmulatorResponse {
  return json(status, {
    error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } },
  });
}

function notFound(): EmulatorResponse {
  return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
}

function syncStateGone(): EmulatorResponse {
  return graphError(410, 'SyncStateNotFound', 'The sync state generation is not found. Resync is required.');
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken(token: string): unknown {
  return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
}

function parseJson(body: string): Record<string, unknown> | null {
  if (body === '') return null;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\n', '<br>');
}

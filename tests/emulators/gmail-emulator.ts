import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import {
  HttpEmulator,
  bearerToken,
  decodeBase64UrlStrict,
  encodeBase64Url,
  json,
  randomId,
  type EmulatorRequest,
  type EmulatorResponse,
} from './http-emulator.ts';
import { AuthorizationCodeFlow } from './oauth-authorization-code.ts';
import { GmailPush } from './gmail-push.ts';
import { GoogleCalendarRoutes } from './google-calendar-routes.ts';

/**
 * Gmail API v1 + Google's OAuth token endpoint, on loopback, for googleapis pointed here with `rootUrl`
 * and the OAuth2Client's `oauth2TokenUrl`. Strict where Gmail is strict: bearer tokens and scopes,
 * base64url `raw`, unknown ids (404), expired history (404), threading rules (a draft only joins a thread
 * when its In-Reply-To/References name a message of the thread and the subject matches).
 */

const SCOPE = 'https://www.googleapis.com/auth/';
const READ_SCOPES = ['gmail.readonly', 'gmail.modify', 'gmail.compose'].map((s) => SCOPE + s).concat('https://mail.google.com/');
const MODIFY_SCOPES = ['gmail.modify'].map((s) => SCOPE + s).concat('https://mail.google.com/');
const COMPOSE_SCOPES = ['gmail.compose', 'gmail.modify'].map((s) => SCOPE + s).concat('https://mail.google.com/');
const LABEL_SCOPES = ['gmail.labels', 'gmail.modify'].map((s) => SCOPE + s).concat('https://mail.google.com/');
const SYSTEM_LABELS = ['INBOX', 'SENT', 'DRAFT', 'UNREAD', 'STARRED', 'IMPORTANT', 'SPAM', 'TRASH'];

interface Header {
  name: string;
  value: string;
}

interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: Set<string>;
  raw: Buffer;
  parsed: ParsedMail;
  headers: Header[];
  internalDate: number;
  historyId: number;
}

interface HistoryRecord {
  id: number;
  messageId: string;
  threadId: string;
  labelIds: string[];
}

/** A message that left the mailbox through drafts.send, parsed from the raw RFC 822 it was given. */
export interface SentRecord {
  id: string;
  threadId: string;
  raw: string;
  parsed: ParsedMail;
  /** Lower-cased header name → value. */
  headers: Map<string, string>;
}

export interface SeedMessage {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  text: string;
  html?: string;
  /** Extra headers, e.g. List-Id, Auto-Submitted. */
  headers?: Record<string, string>;
  threadId?: string;
  inReplyTo?: string;
  references?: string[];
  date?: Date;
  labelIds?: string[];
}

export interface GmailEmulatorOptions {
  mailbox?: string;
  clientId?: string;
  clientSecret?: string;
  /** Issue a new refresh token on every refresh and invalidate the old one. Default true. */
  rotateRefreshTokens?: boolean;
  accessTokenTtlSeconds?: number;
}

interface RefreshTokenState {
  status: 'active' | 'rotated' | 'revoked';
  scopes: string[];
}

export class GmailEmulator {
  readonly mailbox: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Consent page at /o/oauth2/v2/auth and `grant_type=authorization_code`; tests set its behaviour. */
  readonly authorizationCodes: AuthorizationCodeFlow;
  readonly sent: SentRecord[] = [];
  /** users.watch / users.stop and the Pub/Sub push of new inbox mail (tests set its push endpoint). */
  readonly push = new GmailPush(gmailError);
  /** Google Calendar v3 under /calendar/v3, same tokens: `calendar.addBusy(...)`, `calendar.events()`. */
  readonly calendar: GoogleCalendarRoutes;
  readonly #http: HttpEmulator;
  readonly #rotate: boolean;
  readonly #ttlSeconds: number;
  readonly #refreshTokens = new Map<string, RefreshTokenState>();
  readonly #accessTokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  readonly #messages = new Map<string, StoredMessage>();
  readonly #drafts = new Map<string, string>();
  readonly #labels = new Map<string, { id: string; name: string; type: 'system' | 'user' }>();
  #history: HistoryRecord[] = [];
  #historyId = 1000;
  #oldestRetainedHistoryId = 0;
  #throttle: { remaining: number; retryAfterSeconds: number } = { remaining: 0, retryAfterSeconds: 0 };

  constructor(options: GmailEmulatorOptions = {}) {
    this.mailbox = options.mailbox ?? 'agent@acme.example';
    this.calendar = new GoogleCalendarRoutes(this.mailbox);
    this.clientId = options.clientId ?? 'emulator-client-id.apps.googleusercontent.com';
    this.clientSecret = options.clientSecret ?? 'emulator-client-secret';
    this.#rotate = options.rotateRefreshTokens ?? true;
    this.#ttlSeconds = options.accessTokenTtlSeconds ?? 3600;
    for (const name of SYSTEM_LABELS) this.#labels.set(name, { id: name, name, type: 'system' });
    this.#http = new HttpEmulator((request) => this.#handle(request));
    this.authorizationCodes = new AuthorizationCodeFlow({ clientId: this.clientId, dialect: 'google' });
  }

  get requests() {
    return this.#http.requests;
  }

  /** Root URL for googleapis' `rootUrl` (with trailing slash). */
  get rootUrl(): string {
    return `${this.#http.url}/`;
  }

  get tokenUrl(): string {
    return `${this.#http.url}/token`;
  }

  start(options: { host?: string; port?: number } = {}): Promise<string> {
    return this.#http.start(options);
  }

  stop(): Promise<void> {
    return this.#http.stop();
  }

  // ---- test controls -------------------------------------------------------------------------------

  /** A refresh token as the consent flow would have stored it. */
  issueRefreshToken(scopes: string[]): string {
    const token = `1//rt-${randomId()}`;
    this.#refreshTokens.set(token, { status: 'active', scopes: [...scopes] });
    return token;
  }

  /** The user withdrew consent: every refresh and access token stops working. */
  revokeConsent(): void {
    for (const state of this.#refreshTokens.values()) state.status = 'revoked';
    this.#accessTokens.clear();
  }

  /** Access tokens expire early (clock skew, server-side invalidation): the next API call gets a 401. */
  invalidateAccessTokens(): void {
    this.#accessTokens.clear();
  }

  /** Gmail keeps history for a limited time; afterwards history.list answers 404. */
  expireHistory(): void {
    this.#oldestRetainedHistoryId = this.#historyId + 1;
    this.#history = [];
  }

  /** The next `count` API calls get 429 with Retry-After. */
  throttle(count: number, retryAfterSeconds: number): void {
    this.#throttle = { remaining: count, retryAfterSeconds };
  }

  get currentHistoryId(): number {
    return this.#historyId;
  }

  labelNamesOf(messageId: string): string[] {
    const message = this.#messages.get(messageId);
    if (message === undefined) return [];
    return [...message.labelIds].map((id) => this.#labels.get(id)?.name ?? id);
  }

  draftCount(): number {
    return this.#drafts.size;
  }

  /** Delivers an inbound message to the inbox, as if it came from outside. */
  async seedInbound(seed: SeedMessage): Promise<{ id: string; threadId: string; messageId: string }> {
    const messageId = `<${randomId('seed-')}@sender.example>`;
    const raw = await new MailComposer({
      from: seed.from,
      to: seed.to,
      cc: seed.cc,
      subject: seed.subject,
      text: seed.text,
      html: seed.html,
      headers: seed.headers,
      messageId,
      inReplyTo: seed.inReplyTo,
      references: seed.references,
      date: seed.date ?? new Date(),
    })
      .compile()
      .build();
    const stored = await this.#store(raw, seed.threadId ?? randomId('t'), seed.labelIds ?? ['INBOX', 'UNREAD']);
    return { id: stored.id, threadId: stored.threadId, messageId };
  }

  // ---- HTTP ----------------------------------------------------------------------------------------

  async #handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    const path = request.url.pathname;
    if (path === '/token') return this.#token(request);
    if (path === '/o/oauth2/v2/auth') return this.authorizationCodes.authorize(request);
    const calendarPath = /^\/calendar\/v3(\/.*)$/.exec(path)?.[1] ?? null;
    const match = /^\/gmail\/v1\/users\/([^/]+)(\/.*)$/.exec(path);
    if (match === null && calendarPath === null) return gmailError(404, 'Not Found', 'notFound', 'NOT_FOUND');
    const user = decodeURIComponent(match?.[1] ?? 'me');
    const rest = match?.[2] ?? '';
    const token = bearerToken(request.headers);
    const access = token === null ? undefined : this.#accessTokens.get(token);
    if (access === undefined || access.expiresAt <= Date.now()) {
      return {
        ...gmailError(
          401,
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          'authError',
          'UNAUTHENTICATED',
        ),
        headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      };
    }
    if (this.#throttle.remaining > 0) {
      this.#throttle.remaining--;
      return {
        ...gmailError(429, 'Too many concurrent requests for user.', 'rateLimitExceeded', 'RESOURCE_EXHAUSTED'),
        headers: { 'retry-after': String(this.#throttle.retryAfterSeconds) },
      };
    }
    if (calendarPath !== null) return this.calendar.handle(request.method, calendarPath, request.url.searchParams, request.body, access.scopes);
    if (user !== 'me' && user !== this.mailbox) {
      return gmailError(403, 'Delegation denied for ' + this.mailbox, 'forbidden', 'PERMISSION_DENIED');
    }
    const route = `${request.method} ${rest}`;
    const need = (scopes: string[]): EmulatorResponse | null =>
      access.scopes.some((scope) => scopes.includes(scope))
        ? null
        : gmailError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', 'PERMISSION_DENIED');

    let m: RegExpExecArray | null;
    if (route === 'POST /watch') return need(READ_SCOPES) ?? this.push.handleWatch(request.body, this.#historyId);
    if (route === 'POST /stop') return need(READ_SCOPES) ?? this.push.handleStop();
    if (route === 'GET /profile') return need(READ_SCOPES) ?? this.#profile();
    if (route === 'GET /messages') return need(READ_SCOPES) ?? this.#listMessages(request.url.searchParams);
    if ((m = /^GET \/messages\/([^/]+)$/.exec(route)))
      return need(READ_SCOPES) ?? this.#getMessage(m[1] ?? '', request.url.searchParams);
    if ((m = /^POST \/messages\/([^/]+)\/modify$/.exec(route)))
      return need(MODIFY_SCOPES) ?? this.#modify(m[1] ?? '', request.body);
    if ((m = /^GET \/threads\/([^/]+)$/.exec(route)))
      return need(READ_SCOPES) ?? this.#getThread(m[1] ?? '', request.url.searchParams);
    if (route === 'GET /history') return need(READ_SCOPES) ?? this.#listHistory(request.url.searchParams);
    if (route === 'GET /labels') return need(READ_SCOPES.concat(LABEL_SCOPES)) ?? this.#listLabels();
    if (route === 'POST /labels') return need(LABEL_SCOPES) ?? this.#createLabel(request.body);
    if (route === 'POST /drafts/send') return need(COMPOSE_SCOPES) ?? (await this.#sendDraft(request.body));
    if (route === 'POST /drafts') return need(COMPOSE_SCOPES) ?? (await this.#putDraft(null, request.body));
    if ((m = /^GET \/drafts\/([^/]+)$/.exec(route)))
      return need(COMPOSE_SCOPES.concat(READ_SCOPES)) ?? this.#getDraft(m[1] ?? '', request.url.searchParams);
    if ((m = /^PUT \/drafts\/([^/]+)$/.exec(route)))
      return need(COMPOSE_SCOPES) ?? (await this.#putDraft(m[1] ?? '', request.body));
    if ((m = /^DELETE \/drafts\/([^/]+)$/.exec(route))) return need(COMPOSE_SCOPES) ?? this.#deleteDraft(m[1] ?? '');
    return gmailError(404, 'Not Found', 'notFound', 'NOT_FOUND');
  }

  #token(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'POST') return json(405, { error: 'invalid_request' });
    const type = String(request.headers['content-type'] ?? '');
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return json(400, { error: 'invalid_request', error_description: 'Bad Request' });
    }
    const form = new URLSearchParams(request.body);
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    }
    if (form.get('grant_type') === 'authorization_code') {
      const grant = this.authorizationCodes.redeem(form);
      if ('status' in grant) return grant;
      const accessToken = `ya29.${randomId()}${randomId()}`;
      this.#accessTokens.set(accessToken, { scopes: grant.scopes, expiresAt: Date.now() + this.#ttlSeconds * 1000 });
      return json(200, {
        access_token: accessToken,
        expires_in: this.#ttlSeconds,
        scope: grant.scopes.join(' '),
        token_type: 'Bearer',
        ...(grant.offline ? { refresh_token: this.issueRefreshToken(grant.scopes) } : {}),
      });
    }
    if (form.get('grant_type') !== 'refresh_token') {
      return json(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
    }
    const refreshToken = form.get('refresh_token') ?? '';
    const state = this.#refreshTokens.get(refreshToken);
    if (state === undefined || state.status !== 'active') {
      return json(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    }
    const accessToken = `ya29.${randomId()}${randomId()}`;
    this.#accessTokens.set(accessToken, { scopes: state.scopes, expiresAt: Date.now() + this.#ttlSeconds * 1000 });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: this.#ttlSeconds,
      scope: state.scopes.join(' '),
      token_type: 'Bearer',
    };
    if (this.#rotate) {
      state.status = 'rotated';
      const next = this.issueRefreshToken(state.scopes);
      body['refresh_token'] = next;
    }
    return json(200, body);
  }

  #profile(): EmulatorResponse {
    return json(200, {
      emailAddress: this.mailbox,
      messagesTotal: this.#messages.size,
      threadsTotal: new Set([...this.#messages.values()].map((m) => m.threadId)).size,
      historyId: String(this.#historyId),
    });
  }

  #listMessages(query: URLSearchParams): EmulatorResponse {
    const maxResults = clampInt(query.get('maxResults'), 100, 1, 500);
    if (maxResults === null) return gmailError(400, 'Invalid maxResults', 'invalidArgument', 'INVALID_ARGUMENT');
    const labelIds = query.getAll('labelIds');
    const includeSpamTrash = query.get('includeSpamTrash') === 'true';
    const filter = parseSearch(query.get('q') ?? '');
    const all = [...this.#messages.values()]
      .filter((m) => labelIds.every((l) => m.labelIds.has(l)))
      .filter((m) => includeSpamTrash || (!m.labelIds.has('SPAM') && !m.labelIds.has('TRASH')))
      .filter((m) => filter(m))
      .sort((a, b) => b.internalDate - a.internalDate || b.historyId - a.historyId);
    const offset = Number(query.get('pageToken') ?? '0');
    if (!Number.isInteger(offset) || offset < 0) return gmailError(400, 'Invalid pageToken', 'invalidArgument', 'INVALID_ARGUMENT');
    const page = all.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = { resultSizeEstimate: all.length };
    if (page.length > 0) body['messages'] = page.map((m) => ({ id: m.id, threadId: m.threadId }));
    if (offset + maxResults < all.length) body['nextPageToken'] = String(offset + maxResults);
    return json(200, body);
  }

  #getMessage(id: string, query: URLSearchParams): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const rendered = this.#render(message, query);
    if (rendered === null) return gmailError(400, 'Invalid format', 'invalidArgument', 'INVALID_ARGUMENT');
    return json(200, rendered);
  }

  #getThread(id: string, query: URLSearchParams): EmulatorResponse {
    const messages = [...this.#messages.values()]
      .filter((m) => m.threadId === id && !m.labelIds.has('DRAFT'))
      .sort((a, b) => a.internalDate - b.internalDate || a.historyId - b.historyId);
    if (messages.length === 0) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const rendered = messages.map((m) => this.#render(m, query));
    if (rendered.includes(null)) return gmailError(400, 'Invalid format', 'invalidArgument', 'INVALID_ARGUMENT');
    return json(200, { id, historyId: String(Math.max(...messages.map((m) => m.historyId))), messages: rendered });
  }

  #modify(id: string, body: string): EmulatorResponse {
    const message = this.#messages.get(id);
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const parsed = parseJson(body) as { addLabelIds?: unknown; removeLabelIds?: unknown } | null;
    if (parsed === null) return gmailError(400, 'Invalid JSON payload received.', 'badRequest', 'INVALID_ARGUMENT');
    const add = stringArray(parsed.addLabelIds);
    const remove = stringArray(parsed.removeLabelIds);
    if (add === null || remove === null) return gmailError(400, 'Invalid label list', 'invalidArgument', 'INVALID_ARGUMENT');
    for (const label of [...add, ...remove]) {
      if (!this.#labels.has(label)) return gmailError(400, `Invalid label: ${label}`, 'invalidArgument', 'INVALID_ARGUMENT');
    }
    for (const label of add) message.labelIds.add(label);
    for (const label of remove) message.labelIds.delete(label);
    message.historyId = ++this.#historyId;
    return json(200, { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] });
  }

  #listHistory(query: URLSearchParams): EmulatorResponse {
    const startRaw = query.get('startHistoryId');
    if (startRaw === null || !/^\d+$/.test(startRaw)) {
      return gmailError(400, 'Missing or invalid startHistoryId', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const start = Number(startRaw);
    if (start < this.#oldestRetainedHistoryId - 1 || start > this.#historyId) {
      return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    }
    const types = query.getAll('historyTypes');
    if (types.some((t) => !['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'].includes(t))) {
      return gmailError(400, 'Invalid historyTypes', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const labelId = query.get('labelId');
    const maxResults = clampInt(query.get('maxResults'), 100, 1, 500);
    if (maxResults === null) return gmailError(400, 'Invalid maxResults', 'invalidArgument', 'INVALID_ARGUMENT');
    const records = this.#history.filter(
      (r) => r.id > start && (labelId === null || r.labelIds.includes(labelId)),
    );
    const offset = Number(query.get('pageToken') ?? '0');
    const page = records.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = { historyId: String(this.#historyId) };
    if (page.length > 0) {
      body['history'] = page.map((r) => ({
        id: String(r.id),
        messages: [{ id: r.messageId, threadId: r.threadId }],
        messagesAdded: [{ message: { id: r.messageId, threadId: r.threadId, labelIds: r.labelIds } }],
      }));
    }
    if (offset + maxResults < records.length) body['nextPageToken'] = String(offset + maxResults);
    return json(200, body);
  }

  #listLabels(): EmulatorResponse {
    return json(200, { labels: [...this.#labels.values()] });
  }

  #createLabel(body: string): EmulatorResponse {
    const parsed = parseJson(body) as { name?: unknown } | null;
    const name = parsed?.name;
    if (typeof name !== 'string' || name.trim() === '') {
      return gmailError(400, 'Invalid label name', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    if ([...this.#labels.values()].some((l) => l.name.toLowerCase() === name.toLowerCase())) {
      return gmailError(409, 'Label name exists or conflicts', 'failedPrecondition', 'ALREADY_EXISTS');
    }
    const label = { id: `Label_${this.#labels.size + 1}`, name, type: 'user' as const };
    this.#labels.set(label.id, label);
    return json(200, { ...label, messageListVisibility: 'show', labelListVisibility: 'labelShow' });
  }

  async #putDraft(draftId: string | null, body: string): Promise<EmulatorResponse> {
    if (draftId !== null && !this.#drafts.has(draftId)) {
      return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    }
    const parsed = parseJson(body) as { message?: { raw?: unknown; threadId?: unknown } } | null;
    const raw = parsed?.message?.raw;
    if (typeof raw !== 'string' || raw === '') return gmailError(400, 'Missing draft message', 'invalidArgument', 'INVALID_ARGUMENT');
    const bytes = decodeBase64UrlStrict(raw);
    if (bytes === null || !/^[\x21-\x39\x3b-\x7e]+:/.test(bytes.toString('latin1'))) {
      return gmailError(400, "Invalid value at 'draft.message.raw' (TYPE_BYTES), Base64 decoding failed", 'invalidArgument', 'INVALID_ARGUMENT');
    }
    const requestedThread = parsed?.message?.threadId;
    if (requestedThread !== undefined && typeof requestedThread !== 'string') {
      return gmailError(400, 'Invalid threadId', 'invalidArgument', 'INVALID_ARGUMENT');
    }
    if (requestedThread !== undefined && ![...this.#messages.values()].some((m) => m.threadId === requestedThread)) {
      return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    }
    const previous = draftId === null ? undefined : this.#messages.get(this.#drafts.get(draftId) ?? '');
    if (previous !== undefined) this.#messages.delete(previous.id);
    const parsedMail = await simpleParser(bytes);
    const threadId =
      requestedThread !== undefined && this.#joinsThread(parsedMail, requestedThread) ? requestedThread : randomId('t');
    const stored = await this.#store(bytes, threadId, ['DRAFT']);
    const id = draftId ?? `r-${randomId()}`;
    this.#drafts.set(id, stored.id);
    return json(200, { id, message: { id: stored.id, threadId: stored.threadId, labelIds: ['DRAFT'] } });
  }

  #getDraft(draftId: string, query: URLSearchParams): EmulatorResponse {
    const message = this.#messages.get(this.#drafts.get(draftId) ?? '');
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const rendered = this.#render(message, query);
    if (rendered === null) return gmailError(400, 'Invalid format', 'invalidArgument', 'INVALID_ARGUMENT');
    return json(200, { id: draftId, message: rendered });
  }

  #deleteDraft(draftId: string): EmulatorResponse {
    const messageId = this.#drafts.get(draftId);
    if (messageId === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    this.#drafts.delete(draftId);
    this.#messages.delete(messageId);
    return { status: 204 };
  }

  async #sendDraft(body: string): Promise<EmulatorResponse> {
    const parsed = parseJson(body) as { id?: unknown } | null;
    const draftId = parsed?.id;
    if (typeof draftId !== 'string') return gmailError(400, 'Invalid draft', 'invalidArgument', 'INVALID_ARGUMENT');
    const messageId = this.#drafts.get(draftId);
    const message = messageId === undefined ? undefined : this.#messages.get(messageId);
    if (message === undefined) return gmailError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const recipients = [message.parsed.to, message.parsed.cc, message.parsed.bcc].flatMap(addressesOf);
    if (recipients.length === 0) return gmailError(400, 'Recipient address required', 'invalidArgument', 'INVALID_ARGUMENT');
    this.#drafts.delete(draftId);
    message.labelIds = new Set(['SENT']);
    message.historyId = ++this.#historyId;
    message.internalDate = Date.now();
    this.#history.push({ id: message.historyId, messageId: message.id, threadId: message.threadId, labelIds: ['SENT'] });
    this.sent.push({
      id: message.id,
      threadId: message.threadId,
      raw: message.raw.toString('utf8'),
      parsed: message.parsed,
      headers: new Map(message.headers.map((h) => [h.name.toLowerCase(), h.value])),
    });
    return json(200, { id: message.id, threadId: message.threadId, labelIds: ['SENT'] });
  }

  // ---- internals -----------------------------------------------------------------------------------

  async #store(raw: Buffer, threadId: string, labelIds: string[]): Promise<StoredMessage> {
    const parsed = await simpleParser(raw);
    const headers = parsed.headerLines.map((line) => {
      const colon = line.line.indexOf(':');
      return { name: line.line.slice(0, colon), value: line.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
    });
    const stored: StoredMessage = {
      id: randomId(),
      threadId,
      labelIds: new Set(labelIds),
      raw,
      parsed,
      headers,
      internalDate: (parsed.date ?? new Date()).getTime(),
      historyId: ++this.#historyId,
    };
    this.#messages.set(stored.id, stored);
    if (!labelIds.includes('DRAFT')) {
      this.#history.push({ id: stored.historyId, messageId: stored.id, threadId, labelIds: [...labelIds] });
      this.push.messageAdded(this.mailbox, stored.historyId, labelIds);
    }
    return stored;
  }

  /** Gmail's rule: threadId is honoured only with matching References/In-Reply-To and subject. */
  #joinsThread(mail: ParsedMail, threadId: string): boolean {
    const thread = [...this.#messages.values()].filter((m) => m.threadId === threadId && !m.labelIds.has('DRAFT'));
    const referenced = new Set([mail.inReplyTo ?? '', ...(asArray(mail.references) ?? [])].filter((v) => v !== ''));
    const referencesThread = thread.some((m) => m.parsed.messageId !== undefined && referenced.has(m.parsed.messageId));
    const subject = normaliseSubject(mail.subject ?? '');
    const subjectMatches = thread.some((m) => normaliseSubject(m.parsed.subject ?? '') === subject);
    return referencesThread && subjectMatches;
  }

  #render(message: StoredMessage, query: URLSearchParams): Record<string, unknown> | null {
    const format = query.get('format') ?? 'full';
    const base = {
      id: message.id,
      threadId: message.threadId,
      labelIds: [...message.labelIds],
      snippet: (message.parsed.text ?? '').slice(0, 100),
      historyId: String(message.historyId),
      internalDate: String(message.internalDate),
      sizeEstimate: message.raw.length,
    };
    if (format === 'minimal') return base;
    if (format === 'raw') return { ...base, raw: encodeBase64Url(message.raw) };
    if (format === 'metadata') {
      const wanted = query.getAll('metadataHeaders').map((h) => h.toLowerCase());
      const headers = wanted.length === 0 ? message.headers : message.headers.filter((h) => wanted.includes(h.name.toLowerCase()));
      return { ...base, payload: { mimeType: 'multipart/mixed', headers } };
    }
    if (format !== 'full') return null;
    const text = message.parsed.text ?? '';
    const html = typeof message.parsed.html === 'string' ? message.parsed.html : null;
    const textPart = { partId: html === null ? '' : '0', mimeType: 'text/plain', filename: '', headers: [], body: { size: Buffer.byteLength(text), data: encodeBase64Url(text) } };
    const payload =
      html === null
        ? { ...textPart, headers: message.headers }
        : {
            partId: '',
            mimeType: 'multipart/alternative',
            filename: '',
            headers: message.headers,
            body: { size: 0 },
            parts: [
              textPart,
              { partId: '1', mimeType: 'text/html', filename: '', headers: [], body: { size: Buffer.byteLength(html), data: encodeBase64Url(html) } },
            ],
          };
    return { ...base, payload };
  }
}

function gmailError(code: number, message: string, reason: string, status: string): EmulatorResponse {
  return json(code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });
}

function parseJson(body: string): unknown {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}

function stringArray(value: unknown): string[] | null {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : null;
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number | null {
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) return null;
  return Math.min(max, Math.max(min, Number(raw)));
}

function asArray(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  const objects = Array.isArray(value) ? value : [value];
  return objects.flatMap((o) => o.value.flatMap((a) => (a.address === undefined ? [] : [a.address.toLowerCase()])));
}

function normaliseSubject(subject: string): string {
  let current = subject.trim();
  for (;;) {
    const next = current.replace(/^(re|fwd?|aw|sv)\s*:\s*/i, '');
    if (next === current) return current.toLowerCase();
    current = next;
  }
}

/** The subset of Gmail search the adapter uses; free words match subject or body. */
function parseSearch(q: string): (message: StoredMessage) => boolean {
  const terms = q.trim() === '' ? [] : q.trim().split(/\s+/);
  const tests = terms.map((term): ((m: StoredMessage) => boolean) => {
    const [operator, ...restParts] = term.split(':');
    const value = restParts.join(':').toLowerCase();
    switch (restParts.length > 0 ? operator?.toLowerCase() : undefined) {
      case 'in':
      case 'label':
        return (m) => m.labelIds.has(value.toUpperCase()) || [...m.labelIds].some((l) => l.toLowerCase() === value);
      case 'is':
        return (m) => m.labelIds.has(value.toUpperCase());
      case 'to':
        return (m) => [m.parsed.to, m.parsed.cc, m.parsed.bcc].flatMap(addressesOf).includes(value);
      case 'from':
        return (m) => addressesOf(m.parsed.from).includes(value);
      case 'rfc822msgid':
        return (m) => (m.parsed.messageId ?? '').toLowerCase().replace(/^<|>$/g, '') === value.replace(/^<|>$/g, '');
      case 'newer_than': {
        const match = /^(\d+)([dmy])$/.exec(value);
        const days = match === null ? 0 : Number(match[1]) * (match[2] === 'd' ? 1 : match[2] === 'm' ? 30 : 365);
        return (m) => m.internalDate >= Date.now() - days * 86_400_000;
      }
      default:
        return (m) => `${m.parsed.subject ?? ''} ${m.parsed.text ?? ''}`.toLowerCase().includes(term.toLowerCase());
    }
  });
  return (message) => tests.every((test) => test(message));
}

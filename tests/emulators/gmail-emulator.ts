import type { ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { HttpEmulator, bearerToken, encodeBase64Url, randomId, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';
import { gmailError } from './gmail-emulator-support.ts';
import { GmailComposeRoutes } from './gmail-compose-routes.ts';
import { GmailMailbox } from './gmail-mailbox.ts';
import { GoogleTokenEndpoint } from './google-token-endpoint.ts';
import { AuthorizationCodeFlow } from './oauth-authorization-code.ts';
import { GmailPush } from './gmail-push.ts';
import { GoogleCalendarRoutes } from './google-calendar-routes.ts';
import type { RawImport } from './gmail-raw-import.ts';

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
const INSERT_SCOPES = ['gmail.insert', 'gmail.modify'].map((s) => SCOPE + s).concat('https://mail.google.com/');

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
  readonly #tokens: GoogleTokenEndpoint;
  readonly #box: GmailMailbox;
  readonly #compose: GmailComposeRoutes;
  #throttle: { remaining: number; retryAfterSeconds: number } = { remaining: 0, retryAfterSeconds: 0 };

  constructor(options: GmailEmulatorOptions = {}) {
    this.mailbox = options.mailbox ?? 'agent@acme.example';
    this.calendar = new GoogleCalendarRoutes(this.mailbox);
    this.clientId = options.clientId ?? 'emulator-client-id.apps.googleusercontent.com';
    this.clientSecret = options.clientSecret ?? 'emulator-client-secret';
    this.#box = new GmailMailbox(this.mailbox, (historyId, labelIds) => this.push.messageAdded(this.mailbox, historyId, labelIds));
    this.#compose = new GmailComposeRoutes(this.#box, this.sent);
    this.#http = new HttpEmulator((request) => this.#handle(request));
    this.authorizationCodes = new AuthorizationCodeFlow({ clientId: this.clientId, dialect: 'google' });
    this.#tokens = new GoogleTokenEndpoint({
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      codes: this.authorizationCodes,
      rotate: options.rotateRefreshTokens ?? true,
      ttlSeconds: options.accessTokenTtlSeconds ?? 3600,
    });
  }

  get requests() {
    return this.#http.requests;
  }

  /** Root URL for googleapis' `rootUrl` (with trailing slash). */
  get rootUrl(): string {
    return `${this.#http.url}/`;
  }

  /** Google's signing keys for push tokens (www.googleapis.com/oauth2/v3/certs), as `push.signPushesAs` signs them. */
  get certsUrl(): string {
    return `${this.#http.url}/oauth2/v3/certs`;
  }

  get tokenUrl(): string {
    return `${this.#http.url}/token`;
  }

  /** Google's token revocation endpoint (erasure revokes the grant here). */
  get revokeUrl(): string {
    return `${this.#http.url}/revoke`;
  }

  /** Whether a refresh token still works at the token endpoint (a revoked grant's do not). */
  refreshTokenActive(token: string): boolean {
    return this.#tokens.isActive(token);
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
    return this.#tokens.issueRefreshToken(scopes);
  }

  /** The user withdrew consent: every refresh and access token stops working. */
  revokeConsent(): void {
    this.#tokens.revokeAll();
  }

  /** Access tokens expire early (clock skew, server-side invalidation): the next API call gets a 401. */
  invalidateAccessTokens(): void {
    this.#tokens.invalidateAccessTokens();
  }

  /** Gmail keeps history for a limited time; afterwards history.list answers 404. */
  expireHistory(): void {
    this.#box.oldestRetainedHistoryId = this.#box.historyId + 1;
    this.#box.history = [];
  }

  /** The next `count` API calls get 429 with Retry-After. */
  throttle(count: number, retryAfterSeconds: number): void {
    this.#throttle = { remaining: count, retryAfterSeconds };
  }

  get currentHistoryId(): number {
    return this.#box.historyId;
  }

  labelNamesOf(messageId: string): string[] {
    const message = this.#box.messages.get(messageId);
    if (message === undefined) return [];
    return [...message.labelIds].map((id) => this.#box.labels.get(id)?.name ?? id);
  }

  draftCount(): number {
    return this.#box.drafts.size;
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
    const stored = await this.#box.store(raw, seed.threadId ?? randomId('t'), seed.labelIds ?? ['INBOX', 'UNREAD']);
    return { id: stored.id, threadId: stored.threadId, messageId };
  }

  /**
   * Delivers raw RFC 822 bytes to the mailbox unchanged, as `users.messages.import` does (labels INBOX
   * and UNREAD unless given). Refuses what Gmail refuses, by throwing its error message.
   */
  async importRaw(
    raw: Buffer,
    options: { labelIds?: string[]; threadId?: string; internalDateSource?: RawImport['internalDateSource'] } = {},
  ): Promise<{ id: string; threadId: string }> {
    const query = new URLSearchParams(options.internalDateSource === undefined ? {} : { internalDateSource: options.internalDateSource });
    const body = JSON.stringify({ raw: encodeBase64Url(raw), labelIds: options.labelIds ?? ['INBOX', 'UNREAD'], threadId: options.threadId });
    const response = await this.#compose.importRoute('import', body, query);
    const answer = response.body as { id?: string; threadId?: string; error?: { message: string } };
    if (response.status !== 200 || answer.id === undefined || answer.threadId === undefined) {
      throw new Error(`gmail import refused (${response.status}): ${answer.error?.message ?? ''}`);
    }
    return { id: answer.id, threadId: answer.threadId };
  }

  // ---- HTTP ----------------------------------------------------------------------------------------

  async #handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    const path = request.url.pathname;
    if (path === '/token') return this.#tokens.handle(request);
    if (path === '/revoke') return this.#tokens.revoke(request);
    if (path === '/oauth2/v3/certs' && request.method === 'GET') return this.push.handleCerts();
    if (path === '/o/oauth2/v2/auth') return this.authorizationCodes.authorize(request);
    const calendarPath = /^\/calendar\/v3(\/.*)$/.exec(path)?.[1] ?? null;
    const match = /^\/gmail\/v1\/users\/([^/]+)(\/.*)$/.exec(path);
    if (match === null && calendarPath === null) return gmailError(404, 'Not Found', 'notFound', 'NOT_FOUND');
    const user = decodeURIComponent(match?.[1] ?? 'me');
    const rest = match?.[2] ?? '';
    const access = this.#tokens.access(bearerToken(request.headers));
    if (access === undefined) {
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
    if (calendarPath !== null) return this.calendar.handle(request.method, calendarPath, request.url.searchParams, request.body, access.scopes, request.headers);
    if (user !== 'me' && user !== this.mailbox) {
      return gmailError(403, 'Delegation denied for ' + this.mailbox, 'forbidden', 'PERMISSION_DENIED');
    }
    const route = `${request.method} ${rest}`;
    const need = (scopes: string[]): EmulatorResponse | null =>
      access.scopes.some((scope) => scopes.includes(scope))
        ? null
        : gmailError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', 'PERMISSION_DENIED');

    let m: RegExpExecArray | null;
    if (route === 'POST /watch') return need(READ_SCOPES) ?? this.push.handleWatch(request.body, this.#box.historyId);
    if (route === 'POST /stop') return need(READ_SCOPES) ?? this.push.handleStop();
    if (route === 'GET /profile') return need(READ_SCOPES) ?? this.#box.profile();
    if (route === 'GET /messages') return need(READ_SCOPES) ?? this.#box.listMessages(request.url.searchParams);
    if (route === 'POST /messages/import') return need(INSERT_SCOPES) ?? (await this.#compose.importRoute('import', request.body, request.url.searchParams));
    if (route === 'POST /messages') return need(INSERT_SCOPES) ?? (await this.#compose.importRoute('insert', request.body, request.url.searchParams));
    if ((m = /^GET \/messages\/([^/]+)$/.exec(route)))
      return need(READ_SCOPES) ?? this.#box.getMessage(m[1] ?? '', request.url.searchParams);
    if ((m = /^POST \/messages\/([^/]+)\/modify$/.exec(route)))
      return need(MODIFY_SCOPES) ?? this.#box.modify(m[1] ?? '', request.body);
    if ((m = /^GET \/threads\/([^/]+)$/.exec(route)))
      return need(READ_SCOPES) ?? this.#box.getThread(m[1] ?? '', request.url.searchParams);
    if (route === 'GET /history') return need(READ_SCOPES) ?? this.#box.listHistory(request.url.searchParams);
    if (route === 'GET /labels') return need(READ_SCOPES.concat(LABEL_SCOPES)) ?? this.#box.listLabels();
    if (route === 'POST /labels') return need(LABEL_SCOPES) ?? this.#box.createLabel(request.body);
    if (route === 'POST /drafts/send') return need(COMPOSE_SCOPES) ?? (await this.#compose.sendDraft(request.body));
    if (route === 'POST /drafts') return need(COMPOSE_SCOPES) ?? (await this.#compose.putDraft(null, request.body));
    if ((m = /^GET \/drafts\/([^/]+)$/.exec(route)))
      return need(COMPOSE_SCOPES.concat(READ_SCOPES)) ?? this.#compose.getDraft(m[1] ?? '', request.url.searchParams);
    if ((m = /^PUT \/drafts\/([^/]+)$/.exec(route)))
      return need(COMPOSE_SCOPES) ?? (await this.#compose.putDraft(m[1] ?? '', request.body));
    if ((m = /^DELETE \/drafts\/([^/]+)$/.exec(route))) return need(COMPOSE_SCOPES) ?? this.#compose.deleteDraft(m[1] ?? '');
    return gmailError(404, 'Not Found', 'notFound', 'NOT_FOUND');
  }
















  // ---- internals -----------------------------------------------------------------------------------



}


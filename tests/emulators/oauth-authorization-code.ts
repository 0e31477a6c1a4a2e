import { createHash } from 'node:crypto';
import { json, randomId, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';

/**
 * The authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636) as Google and the Microsoft identity
 * platform run it, for the Gmail and Graph emulators: the authorization endpoint with an emulated user
 * who consents (or not), and the code redemption, strict about what real providers are strict about.
 */

/** What the emulated user does on the consent page. */
export type ConsentBehaviour =
  | { kind: 'consent' }
  | { kind: 'deny' }
  /** Unticks these scopes (Google's granular consent; an Entra admin policy) and consents to the rest. */
  | { kind: 'withhold'; scopes: string[] };

export interface AuthorizationRecord {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | null;
}

export interface RedeemedCode {
  /** Scopes the user granted. */
  scopes: string[];
  /** Whether a refresh token may be issued (Google: access_type=offline; Microsoft: offline_access). */
  offline: boolean;
  /** The OpenID Connect nonce of the authorization request, null when it carried none. */
  nonce: string | null;
  /** The account that signed in and consented (`signedInAs`), null: the emulator's own mailbox. */
  account: string | null;
}

interface PendingCode extends RedeemedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  expiresAt: number;
}

type Dialect = 'google' | 'microsoft';

/** OpenID Connect scopes, accepted with any Microsoft authorization request. */
const MICROSOFT_OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
/** The Graph delegated permissions the emulator knows; the identity platform refuses names that do not exist. */
const GRAPH_PERMISSIONS = [
  '.default',
  'Calendars.Read',
  'Calendars.ReadBasic',
  'Calendars.ReadWrite',
  'Mail.Read',
  'Mail.ReadBasic',
  'Mail.ReadWrite',
  'Mail.Send',
  'MailboxSettings.Read',
  'MailboxSettings.ReadWrite',
  'User.Read',
].map((name) => name.toLowerCase());
const GRAPH_RESOURCE = 'https://graph.microsoft.com/';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export class AuthorizationCodeFlow {
  /** Set by tests before the browser visits the consent page. */
  behaviour: ConsentBehaviour = { kind: 'consent' };
  /** The account the emulated user signs in with on the consent page; null: the emulator's own mailbox. */
  signedInAs: string | null = null;
  /** Every authorization request that passed validation, for tests to assert on (e.g. requested scopes). */
  readonly authorizations: AuthorizationRecord[] = [];
  readonly #clientId: string;
  readonly #dialect: Dialect;
  readonly #codeTtlMs: number;
  readonly #codes = new Map<string, PendingCode>();

  constructor(options: { clientId: string; dialect: Dialect; codeTtlMs?: number }) {
    this.#clientId = options.clientId;
    this.#dialect = options.dialect;
    this.#codeTtlMs = options.codeTtlMs ?? 10 * 60_000;
  }

  /** Every code issued so far expires (a user who waited too long before the exchange). */
  expireCodes(): void {
    for (const code of this.#codes.values()) code.expiresAt = 0;
  }

  /** GET on the authorization endpoint: validates the request, then redirects as the user decided. */
  authorize(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'GET') return this.#page(405, 'invalid_request', 'The authorization endpoint takes GET.');
    const query = request.url.searchParams;
    const clientId = query.get('client_id') ?? '';
    if (clientId !== this.#clientId) {
      return this.#dialect === 'google'
        ? this.#page(401, 'invalid_client', 'The OAuth client was not found.')
        : this.#page(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${clientId.slice(0, 100)}' was not found in the directory.`);
    }
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!isLoopbackHttp(redirectUri)) {
      return this.#dialect === 'google'
        ? this.#page(400, 'redirect_uri_mismatch', 'The redirect URI in the request does not match the ones authorized for the OAuth client.')
        : this.#page(400, 'invalid_request', 'AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    }
    // Past this point real providers report problems to the redirect URI, as the spec says.
    const state = query.get('state');
    const fail = (error: string, description: string) => redirect(redirectUri, { error, error_description: description, state });
    if (query.get('response_type') !== 'code') return fail('unsupported_response_type', this.#aad('AADSTS700054', 'response_type must be code.'));
    const scopes = (query.get('scope') ?? '').split(' ').filter((scope) => scope !== '');
    if (scopes.length === 0) return fail('invalid_scope', this.#aad('AADSTS900144', "The request must contain the parameter 'scope'."));
    const unknown = this.#dialect === 'microsoft' ? scopes.find((scope) => !isKnownMicrosoftScope(scope)) : undefined;
    if (unknown !== undefined) {
      return fail('invalid_scope', `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope '${unknown.slice(0, 100)}' does not exist.`);
    }
    const codeChallenge = query.get('code_challenge') ?? '';
    if (query.get('code_challenge_method') !== 'S256' || !CHALLENGE.test(codeChallenge)) {
      return fail('invalid_request', this.#aad('AADSTS501491', 'PKCE with code_challenge_method=S256 is required.'));
    }
    this.authorizations.push({ clientId, redirectUri, scopes, state });

    const behaviour = this.behaviour;
    if (behaviour.kind === 'deny') {
      return fail('access_denied', this.#aad('AADSTS65004', 'The user declined to consent to access the app.'));
    }
    const granted = behaviour.kind === 'withhold' ? scopes.filter((scope) => !behaviour.scopes.includes(scope)) : scopes;
    const offline = this.#dialect === 'google' ? query.get('access_type') === 'offline' : granted.includes('offline_access');
    const code = this.#dialect === 'google' ? `4/0A${randomId()}${randomId()}` : `0.A${randomId()}${randomId()}`;
    this.#codes.set(code, {
      clientId,
      redirectUri,
      codeChallenge,
      scopes: granted,
      offline,
      nonce: query.get('nonce'),
      account: this.signedInAs,
      expiresAt: Date.now() + this.#codeTtlMs,
    });
    return redirect(redirectUri, { code, state, ...(this.#dialect === 'google' ? { scope: granted.join(' ') } : {}) });
  }

  /**
   * `grant_type=authorization_code` on the token endpoint (client authentication already checked by the
   * emulator): the code is single-use and bound to the client, the redirect URI and the PKCE challenge.
   */
  redeem(form: URLSearchParams): RedeemedCode | EmulatorResponse {
    const code = form.get('code') ?? '';
    const pending = this.#codes.get(code);
    // Single use: a second attempt with the same code fails, even when the first one did.
    this.#codes.delete(code);
    if (pending === undefined) {
      return this.#grantError(code === '' ? 'Missing required parameter: code' : this.#aad('AADSTS54005', 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'), 54005);
    }
    if (pending.expiresAt <= Date.now()) return this.#grantError(this.#aad('AADSTS70008', 'The provided authorization code or refresh token has expired.'), 70008);
    if (pending.clientId !== form.get('client_id')) return this.#grantError(this.#aad('AADSTS70000', 'The code was issued to another client.'), 70000);
    if (pending.redirectUri !== form.get('redirect_uri')) {
      return this.#dialect === 'google'
        ? json(400, { error: 'redirect_uri_mismatch', error_description: 'Bad Request' })
        : this.#grantError('AADSTS50011: The redirect URI does not match the one the authorization code was requested with.', 50011);
    }
    const verifier = form.get('code_verifier') ?? '';
    if (!VERIFIER.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== pending.codeChallenge) {
      return this.#grantError(this.#aad('AADSTS50148', 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.'), 50148);
    }
    return { scopes: pending.scopes, offline: pending.offline, nonce: pending.nonce, account: pending.account };
  }

  #grantError(description: string, aadCode: number): EmulatorResponse {
    return this.#dialect === 'google'
      ? json(400, { error: 'invalid_grant', error_description: description.replace(/^AADSTS\d+: /, '') })
      : json(400, { error: 'invalid_grant', error_description: description, error_codes: [aadCode] });
  }

  #aad(code: string, message: string): string {
    return this.#dialect === 'microsoft' ? `${code}: ${message}` : message;
  }

  #page(status: number, error: string, description: string): EmulatorResponse {
    return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `Error ${status}: ${error}\n${description}\n` };
  }
}

function isKnownMicrosoftScope(scope: string): boolean {
  const lower = scope.toLowerCase();
  if (MICROSOFT_OIDC_SCOPES.includes(lower)) return true;
  return GRAPH_PERMISSIONS.includes(lower.startsWith(GRAPH_RESOURCE) ? lower.slice(GRAPH_RESOURCE.length) : lower);
}

/** RFC 8252 §7.3: native apps redirect to http on a loopback IP literal (or localhost), any port. */
function isLoopbackHttp(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname) && url.hash === '' && url.username === '';
}

function redirect(redirectUri: string, params: Record<string, string | null>): EmulatorResponse {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== null) target.searchParams.set(name, value);
  return { status: 302, headers: { location: target.toString() } };
}

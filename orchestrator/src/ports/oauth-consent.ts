import type { ClientId } from '@agent-fleet/kernel/client-id';

/** The mail providers a client can connect; the secret holding the OAuth tokens has the same name. */
export type MailboxProvider = 'gmail' | 'outlook';

/** The CRMs a client can connect (`crm.read` / `crm.write`); the secret has the same name. */
export type CrmConnectProvider = 'bullhorn';

/** What `fleet connect` connects: the mailbox, or the CRM. */
export type ConnectProvider = MailboxProvider | CrmConnectProvider;

/** One authorization request (RFC 6749 §4.1 with PKCE S256, RFC 7636), ready for the user's browser. */
export interface AuthorizationRequest {
  /** The consent page to open, carrying client id, scopes, redirect URI, state and code challenge. */
  url: string;
  /** Unguessable value the redirect must carry back unchanged (CSRF protection). */
  state: string;
  /** PKCE verifier: kept in memory only, sent with the code exchange. */
  codeVerifier: string;
}

/** What the code exchange yields that we keep or check. The access token is dropped at once. */
export interface ConsentGrant {
  refreshToken: string;
  /**
   * Scopes the provider says it granted, in the same spelling as requested scopes (adapters normalise
   * vendor forms such as Graph's resource-prefixed names).
   */
  grantedScopes: string[];
}

/** The OAuth authorization-code flow of one provider, for one OAuth client (id + secret). */
export interface OAuthConsent {
  /** Builds the consent URL for these scopes with a fresh state and PKCE pair. */
  createAuthorizationRequest(input: { scopes: readonly string[]; redirectUri: string }): Promise<AuthorizationRequest>;
  /**
   * Exchanges a single-use authorization code for tokens. Throws FleetError `unauthorized` when the
   * provider refuses the client or the code (`invalid_client`, `invalid_grant`), `unavailable` when it
   * cannot be reached.
   */
  exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<ConsentGrant>;
}

/** What the redirect listener saw, already checked against the expected state. */
export type RedirectOutcome =
  | { kind: 'code'; code: string }
  | { kind: 'denied'; error: string; description: string | null }
  | { kind: 'state-mismatch' }
  | { kind: 'malformed'; reason: string };

/** A one-shot HTTP listener on loopback that receives the provider's redirect (RFC 8252 §7.3). */
export interface RedirectListener {
  /** e.g. http://127.0.0.1:53124/oauth/callback */
  readonly redirectUri: string;
  /**
   * Resolves with the first redirect to the callback path that carries `expectedState`, answering the
   * browser with a short page; a callback with another state (or none) gets a 400 page and is ignored.
   * Rejects with FleetError `timeout` when none came in time. The listener is closed either way.
   */
  waitForRedirect(expectedState: string, timeoutMs: number): Promise<RedirectOutcome>;
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/** What the consent flow needs from the orchestrator: the client's scopes, and where the tokens go. */
export interface MailboxConnectTarget {
  /**
   * The scopes the client's config asks for with this provider (none for a CRM without scopes). Throws
   * FleetError `not_found` for an unknown client, `invalid_input` when the client's config uses the
   * other mail provider or grants no CRM capability.
   */
  consentScopes(clientId: ClientId, provider: ConnectProvider): Promise<string[]>;
  /** Stores the secret through the audited secrets path; returns the new version. */
  storeSecret(clientId: ClientId, name: ConnectProvider, value: string): Promise<{ version: number }>;
}

import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type {
  AuthorizationRequest,
  ConnectProvider,
  MailboxConnectTarget,
  MailboxProvider,
  OAuthConsent,
  RedirectListener,
  RedirectOutcome,
} from '../ports/oauth-consent.ts';
import type { Registry } from '../ports/registry.ts';

/** The OAuth client ops registered with Google or Microsoft (or the client's Bullhorn API key); the secret never leaves memory. */
export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
  /** Outlook only: the Entra tenant (default `common`). */
  tenant?: string;
  /** Bullhorn only: the client's data center (default `east`), stored with the tokens for the agent. */
  dataCenter?: string;
}

export interface ConnectMailboxRequest {
  clientId: ClientId;
  provider: ConnectProvider;
  oauthClient: OAuthClientCredentials;
  /** Port of the loopback redirect listener; 0 (default) picks a free one. */
  port?: number;
  /** How long to wait for the browser to come back, ms. */
  timeoutMs: number;
}

export interface ConnectMailboxResult {
  clientId: ClientId;
  provider: ConnectProvider;
  /** Version of the stored `gmail` / `outlook` / `bullhorn` secret. */
  version: number;
  grantedScopes: string[];
  /** Granted beyond what was asked (stored anyway, but worth a look). */
  extraScopes: string[];
}

export interface ConnectMailboxEvents {
  /** The consent page to open in a browser; the flow waits for its redirect. */
  authorizationUrl(url: string, redirectUri: string): void;
  warning(message: string): void;
}

/**
 * The scopes one provider needs for what the client's config permits, least privilege. A CRM has no
 * scopes (Bullhorn bounds the integration by its API user's entitlements): it needs `crm.read` or
 * `crm.write` granted, and asks for nothing.
 */
export function consentScopesFromConfig(client: { provider: MailboxProvider; configYaml: string }, provider: ConnectProvider): string[] {
  if (provider === 'bullhorn') {
    const { permissions } = parseClientConfigYaml(client.configYaml, 'the client config');
    if (permissions['crm.read'] !== true && permissions['crm.write'] !== true) {
      throw new FleetError('invalid_input', 'the client config grants neither crm.read nor crm.write: nothing to connect the CRM for');
    }
    return [];
  }
  if (client.provider !== provider) {
    throw new FleetError('invalid_input', `the client's config uses ${client.provider}, not ${provider}: use --provider ${client.provider}`);
  }
  const config = parseClientConfigYaml(client.configYaml, 'the client config');
  const scopes = provider === 'gmail' ? gmailScopesFor(config.permissions) : graphScopesFor(config.permissions);
  const meaningful = scopes.filter((scope) => scope !== 'offline_access');
  if (meaningful.length === 0) throw new FleetError('invalid_input', 'the client config grants no mail capability: nothing to consent to');
  return scopes;
}

/** Server side of the flow: which scopes the registered client's config asks for. */
export async function planMailboxConsent(
  deps: { registry: Registry },
  rawClientId: unknown,
  provider: ConnectProvider,
): Promise<{ clientId: ClientId; provider: ConnectProvider; scopes: string[] }> {
  const clientId = parseClientId(rawClientId);
  const record = await deps.registry.getClient(clientId);
  if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry; \`fleet list\` shows the clients`);
  return { clientId, provider, scopes: consentScopesFromConfig(record, provider) };
}

/** Scopes compare case-insensitively (Entra treats them so; Google's are lower-case URLs). */
export function compareScopes(requested: readonly string[], granted: readonly string[]): { missing: string[]; extra: string[] } {
  const grantedSet = new Set(granted.map((scope) => scope.toLowerCase()));
  const requestedSet = new Set(requested.map((scope) => scope.toLowerCase()));
  return {
    missing: requested.filter((scope) => !grantedSet.has(scope.toLowerCase())),
    extra: [...new Set(granted)].filter((scope) => !requestedSet.has(scope.toLowerCase())),
  };
}

/** The stored secret, in the shape the agent reads (connectors-from-secrets.ts, bullhorn-credentials.ts). */
export function providerSecretValue(request: ConnectMailboxRequest, refreshToken: string): string {
  const { oauthClient, provider } = request;
  return JSON.stringify({
    client_id: oauthClient.clientId,
    client_secret: oauthClient.clientSecret,
    refresh_token: refreshToken,
    ...(provider === 'outlook' && oauthClient.tenant !== undefined ? { tenant: oauthClient.tenant } : {}),
    ...(provider === 'bullhorn' && oauthClient.dataCenter !== undefined ? { data_center: oauthClient.dataCenter } : {}),
  });
}

export interface ConnectMailboxDeps {
  target: MailboxConnectTarget;
  /** The provider's flow for this OAuth client (endpoints are the adapter's business). */
  consentFor: (provider: ConnectProvider, oauthClient: OAuthClientCredentials) => OAuthConsent;
  /** Opens the loopback redirect listener. */
  listen: (port: number | undefined) => Promise<RedirectListener>;
  logger: Logger;
}

/**
 * `fleet connect`: the OAuth authorization-code flow (with PKCE where the provider has it) for ops, for
 * the mailbox or the CRM. Scopes come from the client's config; the tokens go to the client's provider
 * secret (`gmail`, `outlook`, `bullhorn`) only when every requested scope was granted.
 */
export class ConnectMailboxService {
  readonly #deps: ConnectMailboxDeps;

  constructor(deps: ConnectMailboxDeps) {
    this.#deps = deps;
  }

  async connect(request: ConnectMailboxRequest, events: ConnectMailboxEvents): Promise<ConnectMailboxResult> {
    const { clientId, provider } = request;
    const logger = this.#deps.logger.child({ client: clientId, op: 'connect-mailbox' });
    checkCredentials(request.oauthClient);
    const scopes = await this.#deps.target.consentScopes(clientId, provider);
    const consent = this.#deps.consentFor(provider, request.oauthClient);
    const listener = await this.#deps.listen(request.port);
    let outcome: RedirectOutcome;
    let authorization: AuthorizationRequest;
    try {
      authorization = await consent.createAuthorizationRequest({ scopes, redirectUri: listener.redirectUri });
      logger.info('waiting for consent', { provider, scopes, redirectUri: listener.redirectUri });
      events.authorizationUrl(authorization.url, listener.redirectUri);
      outcome = await listener.waitForRedirect(authorization.state, request.timeoutMs);
    } finally {
      await listener.close();
    }
    if (outcome.kind === 'state-mismatch') {
      throw new FleetError('forbidden', 'the redirect carried the wrong state (not from this consent request); nothing was stored');
    }
    if (outcome.kind === 'malformed') throw new FleetError('invalid_input', `the redirect could not be read (${outcome.reason}); nothing was stored`);
    if (outcome.kind === 'denied') {
      const why = outcome.error === 'access_denied' ? 'consent was denied in the browser' : `the provider answered ${outcome.error}`;
      throw new FleetError('forbidden', `${why}${outcome.description ? ` (${outcome.description})` : ''}; nothing was stored`);
    }

    const grant = await consent.exchangeCode({ code: outcome.code, codeVerifier: authorization.codeVerifier, redirectUri: listener.redirectUri });
    const { missing, extra } = compareScopes(scopes, grant.grantedScopes);
    if (missing.length > 0) {
      logger.warn('consent refused: scopes missing', { provider, missing });
      throw new FleetError(
        'forbidden',
        `not stored: the consent did not grant ${missing.join(', ')}; connect again and leave every requested permission ticked`,
      );
    }
    if (extra.length > 0) {
      events.warning(`the provider granted more than was asked: ${extra.join(', ')} (earlier grants to this OAuth client are included; revoke them in the account if unwanted)`);
    }
    const { version } = await this.#deps.target.storeSecret(clientId, provider, providerSecretValue(request, grant.refreshToken));
    logger.info(provider === 'bullhorn' ? 'crm connected' : 'mailbox connected', { provider, version, scopes: grant.grantedScopes });
    return { clientId, provider, version, grantedScopes: grant.grantedScopes, extraScopes: extra };
  }
}

function checkCredentials(oauthClient: OAuthClientCredentials): void {
  if (!/^[\x21-\x7e]{1,1000}$/.test(oauthClient.clientId)) {
    throw new FleetError('invalid_input', 'the OAuth client id must be 1–1000 printable characters without spaces');
  }
  if (oauthClient.clientSecret.length === 0 || oauthClient.clientSecret.length > 1000 || /[\r\n]/.test(oauthClient.clientSecret)) {
    throw new FleetError('invalid_input', 'the OAuth client secret is empty, longer than 1000 characters or spans lines');
  }
}

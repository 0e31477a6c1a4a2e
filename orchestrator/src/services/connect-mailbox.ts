import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type {
  AuthorizationRequest,
  ConnectProvider,
  ConsentGrant,
  MailboxConnectTarget,
  MailboxProvider,
  OAuthConsent,
  RedirectListener,
  RedirectOutcome,
} from '../ports/oauth-consent.ts';
import { isClosedStatus } from '../domain/client-status.ts';
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

/** What the consent flow needs to know of a registered client before it starts. */
export interface MailboxConsentPlan {
  clientId: ClientId;
  provider: ConnectProvider;
  scopes: string[];
  /** The mailbox the config names (`mailbox:`), which must be the account that consents; null when it names none, and for a CRM. */
  mailbox: string | null;
  /**
   * The mailboxes other open clients' configs name. A grant refused because one of them consented is not
   * revoked: on a shared OAuth client, Google's revocation would end that client's live grant too.
   */
  otherClientsMailboxes: string[];
}

/**
 * Server side of the flow: which scopes the registered client's config asks for, and which mailbox. A
 * client being closed or closed already gets no new grant: nothing would ever use or revoke it.
 */
export async function planMailboxConsent(deps: { registry: Registry }, rawClientId: unknown, provider: ConnectProvider): Promise<MailboxConsentPlan> {
  const clientId = parseClientId(rawClientId);
  const record = await deps.registry.getClient(clientId);
  if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry; \`fleet list\` shows the clients`);
  if (isClosedStatus(record.status)) {
    throw new FleetError('conflict', `${clientId} is ${record.status}: a closed client gets no new ${provider} grant`);
  }
  const scopes = consentScopesFromConfig(record, provider);
  const mailbox = provider === 'bullhorn' ? null : (parseClientConfigYaml(record.configYaml, 'the client config').mailbox ?? null);
  return { clientId, provider, scopes, mailbox, otherClientsMailboxes: await otherClientsMailboxes(deps.registry, clientId) };
}

async function otherClientsMailboxes(registry: Registry, clientId: ClientId): Promise<string[]> {
  const mailboxes = new Set<string>();
  for (const client of await registry.listClients()) {
    if (client.id === clientId || isClosedStatus(client.status)) continue;
    let mailbox: string | undefined;
    try {
      mailbox = parseClientConfigYaml(client.configYaml, `the config of ${client.id}`).mailbox;
    } catch {
      continue; // a config the registry holds was checked when stored; one unreadable now names nobody
    }
    const address = mailbox === undefined ? undefined : normaliseAddress(mailbox);
    if (address !== undefined) mailboxes.add(address);
  }
  return [...mailboxes];
}

/** The configured mailbox from a consent plan as the API sent it (null when it names none or is not an address). */
export function mailboxOfConsentPlan(plan: unknown): string | null {
  const raw = typeof plan === 'object' && plan !== null ? (plan as Record<string, unknown>)['mailbox'] : undefined;
  return typeof raw === 'string' ? (normaliseAddress(raw) ?? null) : null;
}

/** The other clients' mailboxes from a consent plan as the API sent it (addresses only). */
export function otherMailboxesOfConsentPlan(plan: unknown): string[] {
  const raw = typeof plan === 'object' && plan !== null ? (plan as Record<string, unknown>)['otherClientsMailboxes'] : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry) => {
    const address = typeof entry === 'string' ? normaliseAddress(entry) : undefined;
    return address === undefined ? [] : [address];
  });
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

/** What revoking a refused grant at its provider did. */
export type RefusedGrantRevocation =
  | { outcome: 'revoked' }
  /** The provider has no API for it: what the account holder must do instead. */
  | { outcome: 'manual'; instructions: string };

/** A grant that can tell, while its access token is still in memory, which account gave it. */
export interface IdentifiableConsentGrant extends ConsentGrant {
  /** The consenting account's address, lower-cased; null when the provider cannot say under the granted scopes. */
  consentingAccount(): Promise<string | null>;
  /** Ends the grant at the provider (it was refused). Throws FleetError `unavailable` when that failed. */
  revoke(): Promise<RefusedGrantRevocation>;
}

/** A provider's consent flow whose code exchange yields an identifiable grant. */
export interface AccountAwareOAuthConsent extends OAuthConsent {
  exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<IdentifiableConsentGrant>;
}

export interface ConnectMailboxDeps {
  target: MailboxConnectTarget;
  /** The provider's flow for this OAuth client (endpoints are the adapter's business). */
  consentFor: (provider: ConnectProvider, oauthClient: OAuthClientCredentials) => AccountAwareOAuthConsent;
  /**
   * The mailbox the client's config names, which the consenting account must be (null: it names none).
   * `fleet connect` always passes it; without it the account is not checked.
   */
  configuredMailbox?: (clientId: ClientId, provider: MailboxProvider) => Promise<string | null>;
  /** The mailboxes other open clients' configs name: a refused grant of one of them is not revoked. Default none. */
  otherClientsMailboxes?: (clientId: ClientId, provider: MailboxProvider) => Promise<readonly string[]>;
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
    if (provider !== 'bullhorn') await this.#checkAccount(clientId, provider, grant, events);
    if (extra.length > 0) {
      events.warning(`the provider granted more than was asked: ${extra.join(', ')} (earlier grants to this OAuth client are included; revoke them in the account if unwanted)`);
    }
    const { version } = await this.#deps.target.storeSecret(clientId, provider, providerSecretValue(request, grant.refreshToken));
    logger.info(provider === 'bullhorn' ? 'crm connected' : 'mailbox connected', { provider, version, scopes: grant.grantedScopes });
    return { clientId, provider, version, grantedScopes: grant.grantedScopes, extraScopes: extra };
  }

  /**
   * A grant from another account (a client admin consenting with a personal Gmail) would have the agent
   * read, draft and send in a mailbox nobody configured, so it is refused before anything is stored.
   */
  async #checkAccount(clientId: ClientId, provider: MailboxProvider, grant: IdentifiableConsentGrant, events: ConnectMailboxEvents): Promise<void> {
    const configured = (await this.#deps.configuredMailbox?.(clientId, provider)) ?? null;
    if (configured === null) return;
    const expected = normaliseAddress(configured) ?? configured.toLowerCase();
    const account = await grant.consentingAccount();
    if (account === null) {
      events.warning(`${provider} does not say which account consented: check that it was ${expected}`);
      return;
    }
    if (account !== expected) {
      // Nothing will ever use the grant, but it lives on at the provider until revoked: ended here, unless
      // the account is another client's mailbox (a revocation ends every grant of the account to the
      // OAuth client, that client's live one too).
      const others = (await this.#deps.otherClientsMailboxes?.(clientId, provider)) ?? [];
      const revocation: RevocationAttempt = others.includes(account) ? { outcome: 'kept' } : await revokeRefused(grant);
      this.#deps.logger.warn('consent refused: another account consented', { provider, revocation: revocation.outcome });
      throw new FleetError(
        'forbidden',
        `not stored: the consent was given by ${account}, but the client's mailbox is ${expected}; ${revocationNote(provider, account, revocation)}; connect again signed in as ${expected}`,
      );
    }
  }
}

type RevocationAttempt = RefusedGrantRevocation | { outcome: 'failed'; reason: string } | { outcome: 'kept' };

async function revokeRefused(grant: IdentifiableConsentGrant): Promise<RevocationAttempt> {
  try {
    return await grant.revoke();
  } catch (error) {
    return { outcome: 'failed', reason: error instanceof Error ? error.message : 'no answer' };
  }
}

/** What became of a refused grant at its provider, for the operator. */
function revocationNote(provider: MailboxProvider, account: string, revocation: RevocationAttempt): string {
  if (revocation.outcome === 'revoked') return `that grant was revoked at ${provider} (with any earlier grant of ${account} to this OAuth client)`;
  if (revocation.outcome === 'kept') return `that grant was not revoked: ${account} is another client's mailbox, whose grant a revocation would end too`;
  if (revocation.outcome === 'manual') return `that grant is still active at ${provider}: ${revocation.instructions}`;
  return `revoking that grant at ${provider} failed (${revocation.reason}): remove the app's access in ${account} by hand`;
}

function checkCredentials(oauthClient: OAuthClientCredentials): void {
  if (!/^[\x21-\x7e]{1,1000}$/.test(oauthClient.clientId)) {
    throw new FleetError('invalid_input', 'the OAuth client id must be 1–1000 printable characters without spaces');
  }
  if (oauthClient.clientSecret.length === 0 || oauthClient.clientSecret.length > 1000 || /[\r\n]/.test(oauthClient.clientSecret)) {
    throw new FleetError('invalid_input', 'the OAuth client secret is empty, longer than 1000 characters or spans lines');
  }
}

import * as z from 'zod';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { LiveSecretName } from '@agent-fleet/kernel/live-secrets';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { CalendarProvider } from '../ports/calendar-provider.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import type { ConnectorFactory, Connectors, CrmConnector, NotConnected } from '../services/runtime/connectors.ts';
import { BULLHORN_SECRET } from './bullhorn/bullhorn-credentials.ts';
import { bullhornCrmProviderFromSecret } from './bullhorn/bullhorn-from-secret.ts';
import { LiveKeyLlmClient } from './vault/live-key-llm-client.ts';
import { LiveSecret } from './vault/live-secret.ts';

/** Endpoint overrides (tests point these at the emulators); production uses the vendors' defaults. */
export interface ConnectorEndpoints {
  gmailRootUrl?: string;
  gmailTokenUrl?: string;
  /** Google Calendar API root. Default: `gmailRootUrl` when set (the test emulator serves both), else Google's. */
  googleCalendarRootUrl?: string;
  graphBaseUrl?: string;
  graphTokenUrl?: string;
  anthropicBaseUrl?: string;
  /** Bullhorn OAuth server root (`/oauth/token` under it). Default: the data center's. */
  bullhornAuthUrl?: string;
  /** Bullhorn REST login (`…/rest-services/login`). Default: the data center's. */
  bullhornLoginUrl?: string;
}

/** Secret `gmail` / `outlook`: the OAuth client and the refresh token from the consent flow, as JSON. */
const oauthSecret = z.object({
  client_id: z.string().min(1).max(1000),
  client_secret: z.string().min(1).max(1000),
  refresh_token: z.string().min(1).max(8192),
  /** Outlook only: the Entra tenant (default `common`). */
  tenant: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/).optional(),
});
type OAuthSecret = z.infer<typeof oauthSecret>;

function parseOAuth(name: string, raw: string | undefined): OAuthSecret | null {
  if (raw === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`secret "${name}" must be JSON with client_id, client_secret and refresh_token`);
  }
  const parsed = oauthSecret.safeParse(value);
  if (!parsed.success) throw new Error(`secret "${name}" must be JSON with client_id, client_secret and refresh_token`);
  return parsed.data;
}

/**
 * The OAuth grant as stored, for the token sources built on it. Only a new refresh token of the same OAuth
 * client (id, secret, tenant) is taken while running: another client's grant needs the connectors built
 * again (a resume or a restart), so it is left for that.
 */
interface StoredGrant {
  /** The refresh token the connectors start with. */
  readonly refreshToken: string;
  /** The refresh token an admin stored since it was last read or written here, or null. */
  newerStored(): Promise<string | null>;
  /** Stores a rotated refresh token unless an admin stored a grant meanwhile; returns that grant's token then. */
  save(refreshToken: string): Promise<string | null>;
}

function storedGrant(name: string, secret: LiveSecret, built: OAuthSecret): StoredGrant {
  const sameClient = (stored: OAuthSecret | null): stored is OAuthSecret =>
    stored !== null && stored.client_id === built.client_id && stored.client_secret === built.client_secret && stored.tenant === built.tenant;
  const inHand = (): OAuthSecret | null => {
    try {
      return parseOAuth(name, secret.value);
    } catch {
      return null;
    }
  };
  const usable = (): string | null => {
    const stored = inHand();
    return sameClient(stored) ? stored.refresh_token : null;
  };
  return {
    refreshToken: usable() ?? built.refresh_token,
    newerStored: async () => ((await secret.reload()) ? usable() : null),
    save: async (refreshToken) => {
      const stored = inHand();
      // What an admin stored for another OAuth client (or malformed) is theirs: kept, never written over.
      if (!sameClient(stored)) return null;
      const outcome = await secret.writeBack(JSON.stringify({ ...stored, refresh_token: refreshToken }));
      return outcome === 'superseded' ? usable() : null;
    },
  };
}

/** Secret `anthropic`: the API key, plain or as JSON `{ "api_key": ... }`. */
function anthropicKey(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  const trimmed = raw.trim();
  if (trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      // JSON.parse's message quotes the text around the fault, the key's characters included: never passed on.
      throw new Error('secret "anthropic" must be the API key, or JSON with api_key');
    }
    const key = typeof value === 'object' && value !== null ? (value as { api_key?: unknown }).api_key : undefined;
    return typeof key === 'string' && key !== '' ? key : null;
  }
  return trimmed;
}

/** The API key in a stored `anthropic` value read again; null when it holds none (malformed JSON included). */
function anthropicKeyOrNull(raw: string): string | null {
  try {
    return anthropicKey(raw);
  } catch {
    return null;
  }
}

/**
 * Builds the client's mailbox and model adapters from its secrets. The SDK adapters are loaded only for
 * the provider the client uses (googleapis and the Graph client are large), and only once connected.
 */
export function connectorsFromSecrets(endpoints: ConnectorEndpoints): ConnectorFactory {
  return async ({ config, secrets, source, logger }): Promise<Connectors | NotConnected> => {
    // Every secret read again while running is one of the kernel's LIVE_SECRETS: the CLI tells an admin when it takes effect.
    const providerSecret: LiveSecretName = config.provider === 'gmail' ? 'gmail' : 'outlook';
    const oauth = parseOAuth(providerSecret, secrets.get(providerSecret));
    const apiKey = anthropicKey(secrets.get('anthropic'));
    const missing = [...(oauth === null ? [providerSecret] : []), ...(apiKey === null ? ['anthropic'] : [])];
    if (oauth === null || apiKey === null) return { missing };
    // The stored secrets stay the truth while the agent runs: what an admin stores since is taken without a restart.
    const grant = storedGrant(providerSecret, await LiveSecret.load(source, providerSecret, JSON.stringify(oauth)), oauth);
    const storeRotated = (refreshToken: string) => grant.save(refreshToken);
    const { AnthropicLlmClient } = await import('./anthropic/anthropic-llm-client.ts');
    const llm = new LiveKeyLlmClient({
      secret: await LiveSecret.load(source, 'anthropic' satisfies LiveSecretName, apiKey),
      keyOf: (value) => anthropicKeyOrNull(value),
      build: (key) =>
        new AnthropicLlmClient({
          apiKey: key,
          model: config.model,
          ...(endpoints.anthropicBaseUrl === undefined ? {} : { baseURL: endpoints.anthropicBaseUrl }),
          logger,
        }),
    });
    const canSend = config.permissions['mail.send'] === true;
    const wantsCalendar = config.permissions['calendar.read'] === true || config.permissions['calendar.write'] === true;
    if (config.provider === 'gmail') {
      const googleOAuth = {
        clientId: oauth.client_id,
        clientSecret: oauth.client_secret,
        refreshToken: grant.refreshToken,
        ...(endpoints.gmailTokenUrl === undefined ? {} : { tokenUrl: endpoints.gmailTokenUrl }),
      };
      const [{ GmailMailProvider }, { RotatingOAuth2Client }] = await Promise.all([
        import('./gmail/gmail-mail-provider.ts'),
        import('./gmail/gmail-auth.ts'),
      ]);
      // One grant, one refresh token: the mailbox and the calendar share one client, so a rotation is seen by both.
      const googleClient = new RotatingOAuth2Client(googleOAuth, storeRotated, () => grant.newerStored());
      const provider = new GmailMailProvider({
        client: googleClient,
        ...(endpoints.gmailRootUrl === undefined ? {} : { rootUrl: endpoints.gmailRootUrl }),
        canSend,
        logger,
      });
      let calendar: CalendarProvider | null = null;
      if (wantsCalendar) {
        const { GoogleCalendarProvider } = await import('./google-calendar/google-calendar-provider.ts');
        const calendarRootUrl = endpoints.googleCalendarRootUrl ?? endpoints.gmailRootUrl;
        calendar = new GoogleCalendarProvider({
          auth: { client: googleClient },
          ...(calendarRootUrl === undefined ? {} : { rootUrl: calendarRootUrl }),
          timeZone: config.timezone,
          logger,
        });
      }
      return { providerKind: 'gmail', provider, llm, calendar, crm: crmConnector(config, secrets, source, endpoints, logger) };
    }
    const [{ GraphMailProvider }, { RefreshTokenGraphTokenSource }, { graphScopesFor }] = await Promise.all([
      import('./graph/graph-mail-provider.ts'),
      import('./graph/graph-token-source.ts'),
      import('@agent-fleet/kernel/provider-scopes'),
    ]);
    const tokens = new RefreshTokenGraphTokenSource({
      tokenUrl: endpoints.graphTokenUrl ?? `https://login.microsoftonline.com/${oauth.tenant ?? 'common'}/oauth2/v2.0/token`,
      clientId: oauth.client_id,
      clientSecret: oauth.client_secret,
      refreshToken: grant.refreshToken,
      scopes: graphScopesFor(config.permissions satisfies ClientConfig['permissions']),
      onRefreshTokenRotated: storeRotated,
      readNewerRefreshToken: () => grant.newerStored(),
    });
    const baseUrl = endpoints.graphBaseUrl === undefined ? {} : { baseUrl: endpoints.graphBaseUrl };
    // Mailbox and calendar share one token source: Microsoft rotates the refresh token on every refresh.
    const provider = new GraphMailProvider({ tokens, ...baseUrl, canSend, logger });
    let calendar: CalendarProvider | null = null;
    if (wantsCalendar) {
      const { GraphCalendarProvider } = await import('./graph/graph-calendar-provider.ts');
      // Graph answers all-day events as local midnights: read in the client's zone.
      calendar = new GraphCalendarProvider({ tokens, ...baseUrl, timeZone: config.timezone, logger });
    }
    return { providerKind: 'outlook', provider, llm, calendar, crm: crmConnector(config, secrets, source, endpoints, logger) };
  };
}

/**
 * The client's CRM when `crm.read` or `crm.write` is granted and the `bullhorn` secret is stored; null
 * otherwise. A malformed secret is logged and leaves CRM work off: the CRM never holds up mail.
 */
function crmConnector(
  config: ClientConfig,
  secrets: ReadonlyMap<string, string>,
  source: SecretSource,
  endpoints: ConnectorEndpoints,
  logger: Logger,
): CrmConnector | null {
  if (config.permissions['crm.read'] !== true && config.permissions['crm.write'] !== true) return null;
  const raw = secrets.get(BULLHORN_SECRET);
  if (raw === undefined) return null;
  const overrides = {
    ...(endpoints.bullhornAuthUrl === undefined ? {} : { authUrl: endpoints.bullhornAuthUrl }),
    ...(endpoints.bullhornLoginUrl === undefined ? {} : { loginUrl: endpoints.bullhornLoginUrl }),
  };
  // A rotated refresh token is written back only over the secret it came from (check-and-set), never over
  // one an admin stored meanwhile.
  const build = (value: string) => {
    const live = LiveSecret.unversioned(source, BULLHORN_SECRET, value);
    return bullhornCrmProviderFromSecret({ raw: value, writeBack: (next) => live.writeBack(next), endpoints: overrides, logger });
  };
  try {
    return { name: 'bullhorn', provider: build(raw), secret: BULLHORN_SECRET satisfies LiveSecretName, rebuild: build };
  } catch (error) {
    logger.error('the bullhorn secret is unusable; CRM work is off until it is stored again', { error });
    return null;
  }
}

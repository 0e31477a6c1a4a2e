import * as z from 'zod';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { CalendarProvider } from '../ports/calendar-provider.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import type { ConnectorFactory, Connectors, CrmConnector, NotConnected } from '../services/runtime/connectors.ts';
import { BULLHORN_SECRET } from './bullhorn/bullhorn-credentials.ts';
import { bullhornCrmProviderFromSecret } from './bullhorn/bullhorn-from-secret.ts';

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

/** Secret `anthropic`: the API key, plain or as JSON `{ "api_key": ... }`. */
function anthropicKey(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  const trimmed = raw.trim();
  if (trimmed.startsWith('{')) {
    const key = (JSON.parse(trimmed) as { api_key?: unknown }).api_key;
    return typeof key === 'string' && key !== '' ? key : null;
  }
  return trimmed;
}

/**
 * Builds the client's mailbox and model adapters from its secrets. The SDK adapters are loaded only for
 * the provider the client uses (googleapis and the Graph client are large), and only once connected.
 */
export function connectorsFromSecrets(endpoints: ConnectorEndpoints): ConnectorFactory {
  return async ({ config, secrets, source, logger }): Promise<Connectors | NotConnected> => {
    const providerSecret = config.provider === 'gmail' ? 'gmail' : 'outlook';
    const oauth = parseOAuth(providerSecret, secrets.get(providerSecret));
    const apiKey = anthropicKey(secrets.get('anthropic'));
    const missing = [...(oauth === null ? [providerSecret] : []), ...(apiKey === null ? ['anthropic'] : [])];
    if (oauth === null || apiKey === null) return { missing };
    const storeRotated = (refreshToken: string) => source.writeSecret(providerSecret, JSON.stringify({ ...oauth, refresh_token: refreshToken }));
    const { AnthropicLlmClient } = await import('./anthropic/anthropic-llm-client.ts');
    const llm = new AnthropicLlmClient({
      apiKey,
      model: config.model,
      ...(endpoints.anthropicBaseUrl === undefined ? {} : { baseURL: endpoints.anthropicBaseUrl }),
      logger,
    });
    const canSend = config.permissions['mail.send'] === true;
    const wantsCalendar = config.permissions['calendar.read'] === true || config.permissions['calendar.write'] === true;
    if (config.provider === 'gmail') {
      const googleOAuth = {
        clientId: oauth.client_id,
        clientSecret: oauth.client_secret,
        refreshToken: oauth.refresh_token,
        ...(endpoints.gmailTokenUrl === undefined ? {} : { tokenUrl: endpoints.gmailTokenUrl }),
      };
      const [{ GmailMailProvider }, { RotatingOAuth2Client }] = await Promise.all([
        import('./gmail/gmail-mail-provider.ts'),
        import('./gmail/gmail-auth.ts'),
      ]);
      // One grant, one refresh token: the mailbox and the calendar share one client, so a rotation is seen by both.
      const googleClient = new RotatingOAuth2Client(googleOAuth, storeRotated);
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
      refreshToken: oauth.refresh_token,
      scopes: graphScopesFor(config.permissions satisfies ClientConfig['permissions']),
      onRefreshTokenRotated: storeRotated,
    });
    const baseUrl = endpoints.graphBaseUrl === undefined ? {} : { baseUrl: endpoints.graphBaseUrl };
    // Mailbox and calendar share one token source: Microsoft rotates the refresh token on every refresh.
    const provider = new GraphMailProvider({ tokens, ...baseUrl, canSend, logger });
    let calendar: CalendarProvider | null = null;
    if (wantsCalendar) {
      const { GraphCalendarProvider } = await import('./graph/graph-calendar-provider.ts');
      calendar = new GraphCalendarProvider({ tokens, ...baseUrl, logger });
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
  const build = (value: string) =>
    bullhornCrmProviderFromSecret({ raw: value, writeSecret: (name, next) => source.writeSecret(name, next), endpoints: overrides, logger });
  try {
    return { name: 'bullhorn', provider: build(raw), secret: BULLHORN_SECRET, rebuild: build };
  } catch (error) {
    logger.error('the bullhorn secret is unusable; CRM work is off until it is stored again', { error });
    return null;
  }
}

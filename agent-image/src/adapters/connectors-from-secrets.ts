import { z } from 'zod';
import type { ClientConfig } from '../domain/client-config.ts';
import type { ConnectorFactory, Connectors, NotConnected } from '../services/runtime/connectors.ts';

/** Endpoint overrides (tests point these at the emulators); production uses the vendors' defaults. */
export interface ConnectorEndpoints {
  gmailRootUrl?: string;
  gmailTokenUrl?: string;
  graphBaseUrl?: string;
  graphTokenUrl?: string;
  anthropicBaseUrl?: string;
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
    if (config.provider === 'gmail') {
      const { GmailMailProvider } = await import('./gmail/gmail-mail-provider.ts');
      const provider = new GmailMailProvider({
        oauth: {
          clientId: oauth.client_id,
          clientSecret: oauth.client_secret,
          refreshToken: oauth.refresh_token,
          ...(endpoints.gmailTokenUrl === undefined ? {} : { tokenUrl: endpoints.gmailTokenUrl }),
        },
        onRefreshTokenRotated: storeRotated,
        ...(endpoints.gmailRootUrl === undefined ? {} : { rootUrl: endpoints.gmailRootUrl }),
        canSend,
        logger,
      });
      return { providerKind: 'gmail', provider, llm };
    }
    const [{ GraphMailProvider }, { RefreshTokenGraphTokenSource }, { graphScopesFor }] = await Promise.all([
      import('./graph/graph-mail-provider.ts'),
      import('./graph/graph-token-source.ts'),
      import('./graph/graph-scopes.ts'),
    ]);
    const provider = new GraphMailProvider({
      tokens: new RefreshTokenGraphTokenSource({
        tokenUrl: endpoints.graphTokenUrl ?? `https://login.microsoftonline.com/${oauth.tenant ?? 'common'}/oauth2/v2.0/token`,
        clientId: oauth.client_id,
        clientSecret: oauth.client_secret,
        refreshToken: oauth.refresh_token,
        scopes: graphScopesFor(config.permissions satisfies ClientConfig['permissions']),
        onRefreshTokenRotated: storeRotated,
      }),
      ...(endpoints.graphBaseUrl === undefined ? {} : { baseUrl: endpoints.graphBaseUrl }),
      canSend,
      logger,
    });
    return { providerKind: 'outlook', provider, llm };
  };
}

import type { ConnectProvider } from '../../ports/oauth-consent.ts';
import type { AccountAwareOAuthConsent, OAuthClientCredentials } from '../../services/connect-mailbox.ts';
import { bullhornEndpoints, parseBullhornDataCenter } from '@agent-fleet/kernel/bullhorn-data-centers';
import { BullhornOAuthConsent } from './bullhorn-oauth-consent.ts';
import { GoogleOAuthConsent } from './google-oauth-consent.ts';
import { MicrosoftOAuthConsent } from './microsoft-oauth-consent.ts';

/** Endpoint overrides; production leaves them unset (tests point them at the emulators). */
export interface OAuthEndpoints {
  googleAuthorizationUrl?: string;
  googleTokenUrl?: string;
  /** Google's revocation endpoint, where a refused grant is revoked. */
  googleRevokeUrl?: string;
  /** Gmail API root (with trailing slash), where the consenting account is looked up. */
  gmailApiUrl?: string;
  /** e.g. https://login.microsoftonline.us for a national cloud. */
  microsoftAuthorityHost?: string;
  /** Bullhorn's OAuth server root. Default: the data center's (`--data-center`). */
  bullhornAuthUrl?: string;
}

/** The consent adapter for a provider and an OAuth client. */
export function consentForProvider(endpoints: OAuthEndpoints = {}) {
  return (provider: ConnectProvider, oauthClient: OAuthClientCredentials): AccountAwareOAuthConsent => {
    if (provider === 'bullhorn') {
      return new BullhornOAuthConsent({
        clientId: oauthClient.clientId,
        clientSecret: oauthClient.clientSecret,
        authUrl: endpoints.bullhornAuthUrl ?? bullhornEndpoints(parseBullhornDataCenter(oauthClient.dataCenter ?? 'east')).authUrl,
      });
    }
    return provider === 'gmail'
      ? new GoogleOAuthConsent({
          clientId: oauthClient.clientId,
          clientSecret: oauthClient.clientSecret,
          ...(endpoints.googleAuthorizationUrl === undefined ? {} : { authorizationUrl: endpoints.googleAuthorizationUrl }),
          ...(endpoints.googleTokenUrl === undefined ? {} : { tokenUrl: endpoints.googleTokenUrl }),
          ...(endpoints.gmailApiUrl === undefined ? {} : { gmailApiUrl: endpoints.gmailApiUrl }),
          ...(endpoints.googleRevokeUrl === undefined ? {} : { revokeUrl: endpoints.googleRevokeUrl }),
        })
      : new MicrosoftOAuthConsent({
          clientId: oauthClient.clientId,
          clientSecret: oauthClient.clientSecret,
          tenant: oauthClient.tenant ?? 'common',
          ...(endpoints.microsoftAuthorityHost === undefined ? {} : { authorityHost: endpoints.microsoftAuthorityHost }),
        });
  };
}

import type { GmailOAuthConfig } from '../../agent-image/src/adapters/gmail/gmail-auth.ts';
import { RefreshTokenGraphTokenSource } from '../../agent-image/src/adapters/graph/graph-token-source.ts';

/** The OAuth side of the Gmail and Graph emulators: the token endpoint, the OAuth client, and consent. */
export interface OAuthEmulator {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** A refresh token as the consent flow would have stored it. */
  issueRefreshToken(scopes: string[]): string;
}

/** POSTs a refresh_token grant to the emulator's token endpoint, as the providers' OAuth clients do. */
export function refreshTokenGrant(
  emulator: OAuthEmulator,
  refreshToken: string,
  options: { scopes?: readonly string[] } = {},
): Promise<Response> {
  return fetch(emulator.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: emulator.clientId,
      client_secret: emulator.clientSecret,
      refresh_token: refreshToken,
      ...(options.scopes === undefined ? {} : { scope: options.scopes.join(' ') }),
    }),
  });
}

/**
 * An access token for a fresh consent to `scopes`, and the refresh token the exchange rotated to;
 * `askScopes` also names the scopes in the grant request (as Microsoft's clients do).
 */
export async function accessTokenFor(
  emulator: OAuthEmulator,
  scopes: string[],
  options: { askScopes?: boolean } = {},
): Promise<{ accessToken: string; refreshToken: string }> {
  const response = await refreshTokenGrant(
    emulator,
    emulator.issueRefreshToken(scopes),
    options.askScopes === true ? { scopes } : {},
  );
  const body = (await response.json()) as { access_token: string; refresh_token: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/** The OAuth settings a Google adapter takes, for the emulator's client and this refresh token. */
export function googleOAuth(emulator: OAuthEmulator, refreshToken: string): Required<GmailOAuthConfig> {
  return {
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    refreshToken,
    tokenUrl: emulator.tokenUrl,
  };
}

/** A Graph token source holding a fresh consent to `scopes`. */
export function graphTokenSource(
  emulator: OAuthEmulator,
  scopes: string[],
  onRefreshTokenRotated: (token: string) => Promise<void> = async () => {},
): RefreshTokenGraphTokenSource {
  return new RefreshTokenGraphTokenSource({
    tokenUrl: emulator.tokenUrl,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    refreshToken: emulator.issueRefreshToken(scopes),
    scopes,
    onRefreshTokenRotated,
  });
}

/** The provider secret (JSON) the consent flow stores for a fresh consent to `scopes`. */
export function providerSecret(emulator: OAuthEmulator, scopes: string[]): string {
  return JSON.stringify({
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    refresh_token: emulator.issueRefreshToken(scopes),
  });
}

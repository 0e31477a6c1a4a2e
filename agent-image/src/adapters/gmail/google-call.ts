import type { RotatingOAuth2Client } from './gmail-auth.ts';
import { isInvalidGrant, statusOf, translateGmailError } from './gmail-errors.ts';

/**
 * One Google API call (Gmail or Calendar) with our error translation. A 401 (the access token died
 * early) refreshes once and retries once: the server refused before acting, so even a send is safe to
 * repeat. `invalid_grant` is never retried. A rotated refresh token not yet stored is stored first.
 */
export async function callGoogleApi<T>(auth: RotatingOAuth2Client, operation: string, request: () => Promise<T>): Promise<T> {
  try {
    await auth.saveRotatedToken();
    return await request();
  } catch (error) {
    if (statusOf(error) !== 401 || isInvalidGrant(error)) throw translateGmailError(error, operation);
  }
  try {
    await auth.refreshAccessToken();
    return await request();
  } catch (error) {
    throw translateGmailError(error, operation);
  }
}

import type express from 'express';

/** Anonymous and enrolling sessions. */
export const PRE_COOKIE = '__Host-fleet-pre';
/** Signed-in sessions. Apart from the pre-session so that a visit from an email link never replaces it. */
export const SESSION_COOKIE = '__Host-fleet-session';
/**
 * A known device (identity/device-cookies.ts): set at each successful sign-in, kept across sign-out, so that
 * wrong codes typed elsewhere for the address never lock out this browser's codes.
 */
export const DEVICE_COOKIE = '__Host-fleet-device';

/** Cookie header values by name (first wins); malformed pairs are skipped. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header || header.length > 8192) return cookies;
  for (const pair of header.split(';')) {
    const index = pair.indexOf('=');
    if (index <= 0) continue;
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    if (!cookies.has(name) && /^[A-Za-z0-9_-]{1,200}$/.test(value)) cookies.set(name, value);
  }
  return cookies;
}

/**
 * `__Host-` cookies: Secure, Path=/, no Domain (so only this host, over HTTPS), HttpOnly (no script reads
 * them) and SameSite=Strict (no other site's page sends them). No Max-Age: the server ends sessions.
 */
export function setSessionCookie(response: express.Response, name: string, token: string): void {
  response.append('Set-Cookie', `${name}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict`);
}

export function clearSessionCookie(response: express.Response, name: string): void {
  response.append('Set-Cookie', `${name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`);
}

/** The device cookie: as the session cookies, but kept by the browser for `maxAgeSeconds`. */
export function setDeviceCookie(
  response: express.Response,
  cookie: { value: string; maxAgeSeconds: number },
): void {
  response.append(
    'Set-Cookie',
    `${DEVICE_COOKIE}=${cookie.value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${cookie.maxAgeSeconds}`,
  );
}

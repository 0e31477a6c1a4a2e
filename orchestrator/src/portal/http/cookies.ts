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

/**
 * Cookie header values by name (first wins); malformed pairs, and values longer than any of ours, are skipped.
 * The whole header is read however long: it also carries the cookies of every site under a parent domain
 * (analytics, consent banners, or a sibling site's cookies made large on purpose), and ignoring it whole past
 * some size signed everyone out and failed every form. Node's header size limit bounds the work.
 */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
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
 * The signed-in session is SameSite=Strict: no request from another site's page, not even a link, carries
 * it. The pre-session is Lax: a link from elsewhere (an email) must reach the enrolment or sign-in in
 * progress, since a browser that left the cookie out would be given a new pre-session replacing it (and an
 * enrolment with it, its link already used). Lax still keeps it out of other sites' POSTs and frames, and a
 * GET changes nothing.
 */
function sameSiteOf(name: string): 'Lax' | 'Strict' {
  return name === PRE_COOKIE ? 'Lax' : 'Strict';
}

/**
 * `__Host-` cookies: Secure, Path=/, no Domain (so only this host, over HTTPS), HttpOnly (no script reads
 * them) and SameSite (above). No Max-Age: the server ends sessions.
 */
export function setSessionCookie(response: express.Response, name: string, token: string): void {
  response.append('Set-Cookie', `${name}=${token}; Path=/; Secure; HttpOnly; SameSite=${sameSiteOf(name)}`);
}

export function clearSessionCookie(response: express.Response, name: string): void {
  response.append('Set-Cookie', `${name}=; Path=/; Secure; HttpOnly; SameSite=${sameSiteOf(name)}; Max-Age=0`);
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

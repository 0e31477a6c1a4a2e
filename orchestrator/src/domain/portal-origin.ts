/**
 * The client portal's origin as the agents put it in their mail: PORTAL_PUBLIC_URL behind a proxy, else
 * https://<first TLS name>:<port>. Unknown (undefined) when the port is chosen at listen (0).
 */
export function portalOrigin(env: { publicUrl: string | undefined; tlsNames: readonly string[]; port: number }): string | undefined {
  if (env.publicUrl !== undefined) return new URL(env.publicUrl).origin;
  if (env.port === 0) return undefined;
  return selfServedOrigin(env.tlsNames, env.port);
}

/**
 * The origin of a portal that serves TLS itself, at the first of its certificate names and its port, written
 * as browsers write it in `Origin` (lower-case host, no `:443`, IPv6 compressed in brackets). The CSRF check
 * and the WebAuthn ceremonies compare the browser's origin with it as a string: `Portal.Example.com` or port
 * 443 written as given refused every form and every passkey, the kill switch's included.
 */
export function selfServedOrigin(tlsNames: readonly string[], port: number): string {
  const host = tlsNames[0] ?? 'localhost';
  return new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`).origin;
}

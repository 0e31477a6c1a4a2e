/**
 * The client portal's origin as the agents put it in their mail: PORTAL_PUBLIC_URL behind a proxy, else
 * https://<first TLS name>:<port>. Unknown (undefined) when the port is chosen at listen (0).
 */
export function portalOrigin(env: { publicUrl: string | undefined; tlsNames: readonly string[]; port: number }): string | undefined {
  if (env.publicUrl !== undefined) return new URL(env.publicUrl).origin;
  if (env.port === 0) return undefined;
  const host = env.tlsNames[0] ?? 'localhost';
  return `https://${host.includes(':') ? `[${host}]` : host}:${env.port}`;
}

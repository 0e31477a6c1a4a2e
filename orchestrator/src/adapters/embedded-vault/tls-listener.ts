import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerCertificate } from '../fleet-ca/fleet-ca.ts';

/** What signs the listeners' certificates: the fleet CA. */
export interface ServerCertificateSource {
  /** The CA certificate (PEM) clients verify the store against. */
  certificatePem: string;
  issueServerCertificate(names: readonly string[], now: Date): Promise<ServerCertificate>;
}

/** Nothing older than TLS 1.3 is spoken: a 1.2 client (or plain HTTP) fails the handshake. */
export const TLS_13_ONLY = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;
/** How long an idle client connection is kept, as Vault's listener does by default. */
const VAULT_IDLE_TIMEOUT_MS = 300_000;
/** A listener's certificate is made anew when it has less than this left. */
export const RENEW_BEFORE_MS = 7 * 86_400_000;

/** The names on a listener's certificate: its address (what agents dial), plus localhost on loopback. */
export function certificateNamesFor(host: string): string[] {
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  const names = [host];
  if (loopback && host !== 'localhost') names.push('localhost');
  if (loopback && host === 'localhost') names.push('127.0.0.1');
  return names;
}

export interface TlsListener {
  server: Server;
  /** Replaces the certificate when it is close to its expiry; true when it did. */
  renewIfDue(now: Date): Promise<boolean>;
}

/** An HTTPS server for `host` serving `handler` with a fleet-CA certificate naming that address. */
export async function createTlsListener(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host: string,
  certificates: ServerCertificateSource,
  now: Date,
): Promise<TlsListener> {
  const names = certificateNamesFor(host);
  let current = await certificates.issueServerCertificate(names, now);
  const context = (certificate: ServerCertificate) => ({ key: certificate.privateKeyPem, cert: certificate.certificateChainPem, ...TLS_13_ONLY });
  // Idle connections stay open as long as Vault's own listener keeps them (http_idle_timeout, 5 minutes):
  // clients close theirs sooner (createVaultClient), so a call never lands on a connection being closed.
  const server = createServer(
    { ...context(current), requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: VAULT_IDLE_TIMEOUT_MS },
    handler,
  );
  return {
    server,
    async renewIfDue(at) {
      if (current.notAfter.getTime() - at.getTime() > RENEW_BEFORE_MS) return false;
      current = await certificates.issueServerCertificate(names, at);
      server.setSecureContext(context(current));
      return true;
    },
  };
}

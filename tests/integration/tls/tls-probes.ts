import { request as httpRequest } from 'node:http';
import { connect, type ConnectionOptions, type PeerCertificate } from 'node:tls';

/** Opens a TLS connection and reports what was negotiated; rejects when the handshake fails. */
export function handshake(port: number, options: ConnectionOptions & { host?: string }): Promise<{ protocol: string | null; peer: PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => {
      const result = { protocol: socket.getProtocol(), peer: socket.getPeerCertificate() };
      socket.end();
      resolve(result);
    });
    socket.once('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timed out')));
  });
}

/** A TLS 1.2-only client (it trusts `ca`, so only the protocol version can make it fail). */
export function tls12Handshake(port: number, ca: string, host = '127.0.0.1'): Promise<unknown> {
  return handshake(port, { host, ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined });
}

/** A plain-HTTP GET: the status when some HTTP server answered; rejects when none did. */
export function plainHttpGet(port: number, path: string, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host, port, path, method: 'GET', timeout: 5000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.once('timeout', () => outgoing.destroy(new Error('no HTTP answer')));
    outgoing.once('error', reject);
    outgoing.end();
  });
}

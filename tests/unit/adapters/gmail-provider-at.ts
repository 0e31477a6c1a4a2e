import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';

/** A read-only Gmail provider against `server` (a loopback stand-in serving /token and the API); listens it first. */
export async function gmailProviderAt(server: Server): Promise<GmailMailProvider> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return new GmailMailProvider({
    oauth: { clientId: 'client', clientSecret: randomBytes(8).toString('hex'), refreshToken: randomBytes(8).toString('hex'), tokenUrl: `${base}/token` },
    onRefreshTokenRotated: async () => {},
    rootUrl: `${base}/`,
    canSend: false,
    logger: createSilentLogger(),
  });
}

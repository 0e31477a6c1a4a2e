import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { RedirectListener, RedirectOutcome } from '../../ports/oauth-consent.ts';
import { interpretRedirect } from './redirect-callback.ts';

const CALLBACK_PATH = '/oauth/callback';

const PAGES: Record<RedirectOutcome['kind'], { status: number; text: string }> = {
  code: { status: 200, text: 'agent-fleet: consent received. You can close this window and return to the terminal.' },
  denied: { status: 200, text: 'agent-fleet: consent was not given. You can close this window; the terminal says what to do next.' },
  'state-mismatch': { status: 400, text: 'agent-fleet: this response does not belong to the consent request in progress; it was refused.' },
  malformed: { status: 400, text: 'agent-fleet: the response from the provider could not be read; it was refused.' },
};

/**
 * Loopback redirect listener for native apps (RFC 8252 §7.3): bound to 127.0.0.1 only, on an ephemeral
 * port unless one is given (the OAuth client must then allow that exact URI).
 */
export async function listenForRedirect(options: { port?: number } = {}): Promise<RedirectListener> {
  let onRedirect: ((query: URLSearchParams) => RedirectOutcome) | null = null;
  const server = http.createServer((request, response) => {
    const url = requestUrl(request.url);
    if (request.method !== 'GET' || url === null || url.pathname !== CALLBACK_PATH || onRedirect === null) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const outcome = onRedirect(url.searchParams);
    const page = PAGES[outcome.kind];
    response
      .writeHead(page.status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' })
      .end(`${page.text}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new FleetError('unavailable', `cannot listen for the OAuth redirect on 127.0.0.1:${options.port ?? 0}: ${error.message}`, { cause: error })),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // A browser may hold a keep-alive connection open; it must not keep the port open.
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
    return closed;
  };

  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    waitForRedirect(expectedState, timeoutMs) {
      return new Promise<RedirectOutcome>((resolve, reject) => {
        const timer = setTimeout(() => {
          onRedirect = null;
          void close().then(() =>
            reject(new FleetError('timeout', `no answer from the consent page within ${Math.round(timeoutMs / 1000)} s; run the command again`)),
          );
        }, timeoutMs);
        onRedirect = (query) => {
          const outcome = interpretRedirect(query, expectedState);
          // Anyone who can reach the port (a web page in the operator's browser, another local user) can
          // send a callback; without our state it is refused and the real redirect is still awaited.
          if (outcome.kind === 'state-mismatch') return outcome;
          onRedirect = null;
          clearTimeout(timer);
          // Close once the page has been answered; the browser still gets its response.
          setImmediate(() => void close().then(() => resolve(outcome)));
          return outcome;
        };
      });
    },
    close,
  };
}

/**
 * The request target on our origin, or null when it is not one: a target such as "//" or "//[" makes
 * `new URL` throw, and a throw inside the request handler would take the whole CLI down.
 */
function requestUrl(target: string | undefined): URL | null {
  return URL.parse(target ?? '/', 'http://127.0.0.1');
}

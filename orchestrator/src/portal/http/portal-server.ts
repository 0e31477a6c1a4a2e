import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * The most request-header bytes the portal reads (Node's default is 16 KB). The Cookie header carries the
 * cookies of every site under the portal's parent domain (analytics, consent banners, a sibling site's
 * single sign-on), which can pass 16 KB on their own; the portal's own cookies are a few hundred bytes.
 * 64 KB lets such a browser in, and still bounds what one request makes the server hold.
 */
export const PORTAL_MAX_HEADER_BYTES = 64 * 1024;

/** What a browser whose headers pass the limit is shown instead of a bare status line. */
const OVERSIZED_HEADERS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too many cookies</title></head>
<body><main>
<h1>Your browser sent too many cookies</h1>
<p>The portal could not read your request: your browser sent more than ${PORTAL_MAX_HEADER_BYTES / 1024} KB of cookies with it, mostly set by other websites of the same domain. Nothing was changed.</p>
<p>To continue, delete the cookies of this website and of the domain it belongs to in your browser's settings (or open the portal in a private window), then open the portal again. You will need to sign in again.</p>
</main></body></html>
`;

function rawResponse(status: string, body: string): string {
  return [
    `HTTP/1.1 ${status}`,
    'Content-Type: text/html; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    'X-Frame-Options: DENY',
    'X-Content-Type-Options: nosniff',
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Answers requests Node refuses before express sees them. Headers past the limit get a page saying what to
 * do (Node's own answer is a bare 431 with no body); the rest get Node's usual status, with no body.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    socket.end(rawResponse('431 Request Header Fields Too Large', OVERSIZED_HEADERS_PAGE));
    return;
  }
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
}

/**
 * The portal's listener around its express app: TLS when `tls` is given (the caller sets its protocol
 * version), plain HTTP behind a TLS-terminating proxy; the header limit and timeouts above either way.
 */
export function createPortalServer(app: http.RequestListener, tls: https.ServerOptions): https.Server;
export function createPortalServer(app: http.RequestListener): http.Server;
export function createPortalServer(app: http.RequestListener, tls?: https.ServerOptions): http.Server {
  const options = { maxHeaderSize: PORTAL_MAX_HEADER_BYTES };
  const server = tls ? https.createServer({ ...tls, ...options }, app) : http.createServer(options, app);
  server.on('clientError', answerClientError);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  return server;
}

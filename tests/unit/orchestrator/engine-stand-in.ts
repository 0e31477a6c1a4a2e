// An in-process stand-in for the Docker Engine API on a unix socket in a temporary directory, served for
// the tests of the calling file: each request is answered by the file's own `handle`.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

export interface EngineRequest {
  method: string | undefined;
  url: URL;
  /** The path without the API version prefix (`/v1.43`). */
  pathname: string;
  /** The request body as text. */
  body: string;
}

/** Answers with `status` and `body` as JSON (an empty body when none is given). */
export type EngineReply = (status: number, body?: unknown) => void;

export interface EngineStandIn {
  /** The socket the Engine listens on; set once the file's `before` hooks have run. */
  socketPath: string;
}

/** Serves `handle` on a fresh socket (in a directory named after `prefix`) before the file's tests, and removes it after. */
export function engineStandIn(prefix: string, handle: (request: EngineRequest, reply: EngineReply) => void): EngineStandIn {
  const stand: EngineStandIn = { socketPath: '' };
  let socketDir: string;
  let server: http.Server;
  before(async () => {
    socketDir = await mkdtemp(path.join(os.tmpdir(), prefix));
    stand.socketPath = path.join(socketDir, 'engine.sock');
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://engine');
        const reply: EngineReply = (status, body) => {
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(body === undefined ? '' : JSON.stringify(body));
        };
        handle({ method: request.method, url, pathname: url.pathname.replace(/^\/v[\d.]+/, ''), body: Buffer.concat(chunks).toString('utf8') }, reply);
      });
    });
    await new Promise<void>((resolve) => server.listen(stand.socketPath, resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(socketDir, { recursive: true, force: true });
  });
  return stand;
}

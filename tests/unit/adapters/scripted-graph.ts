import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GraphMailProvider } from '../../../agent-image/src/adapters/graph/graph-mail-provider.ts';

/** One scripted answer of the loopback Graph: status, JSON body and headers. */
export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ScriptedGraph {
  /** Origin, e.g. http://127.0.0.1:1234 (the adapter's baseUrl). */
  base: string;
  /** Every request received: method and path with query, as sent. */
  requests: { method: string; url: string }[];
  /** A GraphMailProvider against this server, with a fixed token. */
  provider(options?: { canSend?: boolean; pageSize?: number }): GraphMailProvider;
  close(): Promise<void>;
}

/**
 * A loopback server that answers Graph requests as the test scripts them: for answers no emulator gives
 * (odd links, loops, odd shapes). `answer` sees the request and the server's own origin.
 */
export async function scriptedGraph(answer: (request: { method: string; url: URL }, base: string) => ScriptedAnswer): Promise<ScriptedGraph> {
  const requests: { method: string; url: string }[] = [];
  let base = '';
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '' });
      const scripted = answer({ method: request.method ?? '', url: new URL(request.url ?? '/', base) }, base);
      response.writeHead(scripted.status, { 'content-type': 'application/json', ...scripted.headers });
      response.end(scripted.body === undefined ? '' : JSON.stringify(scripted.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    provider: (options = {}) =>
      new GraphMailProvider({
        tokens: { getAccessToken: async () => 'scripted-token' },
        baseUrl: base,
        canSend: options.canSend ?? false,
        ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
        logger: createSilentLogger(),
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A Graph error body as Graph writes one. */
export function graphErrorBody(code: string, message: string): unknown {
  return { error: { code, message } };
}

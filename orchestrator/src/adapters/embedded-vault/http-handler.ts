import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { RequestLog } from './request-log.ts';
import type { VaultCore } from './vault-core.ts';
import { VaultHttpError } from './vault-http-error.ts';

/** Vault's own default is 32 MiB; nothing the fleet stores comes close to this. */
export const MAX_BODY_BYTES = 1024 * 1024;

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.setHeader('Cache-Control', 'no-store');
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new VaultHttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    // Not JSON.parse's message: it quotes the body, which may hold a secret, into an error the client logs.
    throw new VaultHttpError(400, 'failed to parse JSON input: the body is not valid JSON');
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new VaultHttpError(400, 'failed to parse JSON input: body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = req.headers.authorization;
  return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
}

export interface HandlerDeps {
  core: VaultCore;
  clock: Clock;
  requestLog: RequestLog;
  logger: Logger;
  /** Persists the state; awaited before answering any request that changed it. */
  persist(): Promise<void>;
}

/** The node:http request listener: `/v1/...` in, Vault's JSON shapes and status codes out. */
export function createHttpHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://vault.invalid');
      const method = req.method ?? 'GET';
      let status = 500;
      let accessor: string | null = null;
      try {
        if (!url.pathname.startsWith('/v1/')) throw new VaultHttpError(404, []);
        const raw = await readBody(req);
        const body = method === 'GET' || method === 'HEAD' ? {} : parseBody(raw);
        const wrapHeader = req.headers['x-vault-wrap-ttl'];
        const outcome = deps.core.handle(
          {
            method,
            path: decodeURIComponent(url.pathname.slice(4)),
            query: url.searchParams,
            body,
            token: tokenOf(req),
            wrapTtl: typeof wrapHeader === 'string' ? wrapHeader : undefined,
          },
          deps.clock.now().getTime(),
        );
        accessor = outcome.accessor;
        if (outcome.mutated) await deps.persist();
        if (outcome.result instanceof VaultHttpError) throw outcome.result;
        status = outcome.result.status;
        send(res, status, outcome.result.status === 200 ? outcome.result.body : undefined);
      } catch (error) {
        if (error instanceof VaultHttpError) {
          status = error.status;
          send(res, status, { errors: error.errors });
        } else if (error instanceof URIError) {
          status = 400;
          send(res, status, { errors: ['invalid request path'] });
        } else {
          status = 500;
          deps.logger.error('embedded vault request failed', { method, path: url.pathname, error });
          send(res, status, { errors: ['internal error'] });
        }
      } finally {
        deps.requestLog.record({
          time: deps.clock.now().toISOString(),
          method,
          path: url.pathname,
          accessor,
          status,
        });
      }
    })();
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as an emulator saw it; tests assert on these. */
export interface LoggedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

export interface EmulatorRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is a string. `undefined` → empty body. */
  body?: unknown;
}

export type EmulatorHandler = (request: EmulatorRequest) => Promise<EmulatorResponse> | EmulatorResponse;

/** The part every emulator shares: a loopback server on a random port, and the request log. */
export class HttpEmulator {
  readonly requests: LoggedRequest[] = [];
  readonly #handler: EmulatorHandler;
  readonly #maxBodyBytes: number;
  #server: Server | null = null;
  #url: string | null = null;

  constructor(handler: EmulatorHandler, options: { maxBodyBytes?: number } = {}) {
    this.#handler = handler;
    this.#maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  }

  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123. */
  get url(): string {
    if (this.#url === null) throw new Error('emulator not started');
    return this.#url;
  }

  /**
   * Listens on loopback by default. A test may give the gateway of one of the project's own Docker
   * networks instead, so an agent container can reach the emulator; never a wildcard or outside address.
   */
  async start(options: { host?: string; port?: number } = {}): Promise<string> {
    const host = options.host ?? '127.0.0.1';
    if (host === '0.0.0.0' || host === '::') throw new Error('emulators never listen on every interface');
    const server = createServer((request, response) => {
      void this.#serve(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.#url = `http://${host}:${port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    this.#server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    let body = '';
    let result: EmulatorResponse;
    try {
      body = await readBody(request, this.#maxBodyBytes);
      result = await this.#handler({ method: request.method ?? 'GET', url, headers: request.headers, body });
    } catch (error) {
      result = { status: 500, body: { error: { message: error instanceof Error ? error.message : String(error) } } };
    }
    this.requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: { ...request.headers },
      body,
      status: result.status,
    });
    const payload =
      result.body === undefined ? '' : typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
    const headers: Record<string, string> = { ...result.headers };
    if (payload !== '' && headers['content-type'] === undefined) headers['content-type'] = 'application/json; charset=utf-8';
    response.writeHead(result.status, headers);
    response.end(payload);
  }
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): EmulatorResponse {
  return { status, body, headers };
}

/** Strict base64url (RFC 4648 §5) as Gmail expects for `raw`: no '+', '/', whitespace; padding optional. */
export function decodeBase64UrlStrict(value: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) return null;
  const unpadded = value.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return null;
  return Buffer.from(unpadded, 'base64url');
}

export function encodeBase64Url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function bearerToken(headers: IncomingMessage['headers']): string | null {
  const value = headers.authorization;
  if (typeof value !== 'string') return null;
  const match = /^Bearer ([^\s]+)$/i.exec(value.trim());
  return match?.[1] ?? null;
}

export function randomId(prefix = ''): string {
  return prefix + crypto.randomUUID().replaceAll('-', '').slice(0, 16);
}

/**
 * POSTs a JSON notification the way a provider does (fire and forget, 10 s timeout), records the answer's
 * status on `delivery`, and keeps the request in `pending` until it settles so tests can wait for it.
 */
export function deliverJson(url: string, body: unknown, delivery: { status: number | null }, pending: Set<Promise<void>>): Promise<void> {
  const sent = fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
    .then(async (response) => {
      delivery.status = response.status;
      await response.arrayBuffer();
    })
    .catch(() => undefined)
    .finally(() => pending.delete(sent));
  pending.add(sent);
  return sent;
}

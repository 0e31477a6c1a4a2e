import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCodeOfResponse, isRetryableCode } from '@agent-fleet/kernel/error-status';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { HOME_HELD_EXIT_CODE } from '../adapters/process/home-lock.ts';
import { ACTING_AS_HEADER } from '../http/admin-auth.ts';
import { DEFAULT_EXCHANGE_LIMITS, ExchangeWatch, type ExchangeLimits, type Stall } from './exchange-watch.ts';

/**
 * libuv threads of the orchestrator service: the one source of the number. The systemd unit renders it; the
 * root Dockerfile's ENV must hold the same (tests/unit/build/service-threadpool.test.ts checks it).
 */
export const SERVICE_THREADPOOL_SIZE = 16;

export interface ClientOptions {
  socketPath: string;
  homeDir: string;
  /** Environment of a service this client starts. Default: this process's (what `spawn` inherits). */
  serviceEnv?: NodeJS.ProcessEnv;
  /** A team member's session token (`fleet login`), sent as the bearer of every request. */
  sessionToken?: string | undefined;
  /** Told the actor the service made a change as when it was not a signed-in member (setup mode: setup@socket). */
  onActingAs?: ((actor: string) => void) | undefined;
  /** How long to wait on the service and how much of an answer to hold; unset ones keep DEFAULT_EXCHANGE_LIMITS. */
  limits?: Partial<ExchangeLimits> | undefined;
}

/** A request path without its query: enough to name the call in a message, and nothing from its parameters. */
function pathOnly(urlPath: string): string {
  const query = urlPath.indexOf('?');
  return query === -1 ? urlPath : urlPath.slice(0, query);
}


/** Where agents run: the runtime a service started by the CLI is told to use. */
export type AgentRuntimeKind = 'docker' | 'kubernetes';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * An error answer of the service turned back into the FleetError it raised: the code from the kernel's
 * one table (the body's code when it is one of ours, else by status), the message as the service wrote it.
 */
export function errorFromAnswer(status: number, text: string): FleetError {
  const body = text ? parseJson(text) : null;
  const code = errorCodeOfResponse(status, body);
  const message = (body as { message?: unknown } | null)?.message;
  return new FleetError(code, typeof message === 'string' ? message : `orchestrator answered ${status}`, {
    retryable: isRetryableCode(code),
  });
}

/** How a request ended up for `settle`: an answer to hand on, or the error to raise (the socket is then released). */
interface Settle<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** Talks to the orchestrator service over its owner-only unix socket, as the signed-in member when there is one. */
export class OrchestratorClient {
  private readonly options: ClientOptions;
  private readonly limits: Readonly<ExchangeLimits>;

  constructor(options: ClientOptions) {
    this.options = options;
    this.limits = { ...DEFAULT_EXCHANGE_LIMITS, ...options.limits };
  }

  /** The request headers: JSON, and the member's session as bearer. */
  private headers(json: boolean): Record<string, string> {
    return {
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...(this.options.sessionToken === undefined ? {} : { authorization: `Bearer ${this.options.sessionToken}` }),
    };
  }

  async request<T>(method: Method, urlPath: string, body?: unknown): Promise<T> {
    const { status, text } = await this.send(method, urlPath, body, this.limits);
    if (status >= 400) throw errorFromAnswer(status, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      // The parser's message quotes the text, which may hold a session token or client data: not repeated.
      throw new FleetError('internal', `the orchestrator's answer to ${method} ${pathOnly(urlPath)} is not JSON`, {
        cause: new Error((error as Error).name),
      });
    }
  }

  /** A request whose response is JSON lines, delivered one by one as they arrive. */
  stream(urlPath: string, body: unknown, onLine: (line: unknown) => void): Promise<void> {
    return this.exchange<void>('POST', urlPath, JSON.stringify(body ?? {}), this.limits, (response, watch, settle) => {
      const status = response.statusCode ?? 500;
      if (status >= 400) return this.readAll(['POST', urlPath], response, watch, settle, (text) => settle.reject(errorFromAnswer(status, text)));
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        watch.touch();
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (!line.trim()) continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(line);
          } catch {
            return settle.reject(new FleetError('internal', `the orchestrator's stream of POST ${pathOnly(urlPath)} holds a line that is not JSON`));
          }
          try {
            onLine(parsed);
          } catch (error) {
            return settle.reject(error as Error);
          }
        }
        if (Buffer.byteLength(buffer) > this.limits.maxAnswerBytes) settle.reject(this.tooLarge('POST', urlPath));
      });
      response.on('end', () => settle.resolve());
    });
  }

  /**
   * A GET whose body is copied as it arrives to `sink` (audit export, archives), at the sink's pace; settles
   * once the sink has taken the last byte (it is not ended: it may be the terminal). It runs as long as the
   * service keeps sending; a service that pauses longer than the idle limit is given up on.
   */
  download(urlPath: string, sink: NodeJS.WritableStream): Promise<void> {
    return this.exchange<void>('GET', urlPath, undefined, this.limits, (response, watch, settle) => {
      const status = response.statusCode ?? 500;
      if (status >= 400) return this.readAll(['GET', urlPath], response, watch, settle, (text) => settle.reject(errorFromAnswer(status, text)));
      const sinkFailed = (error: Error) => settle.reject(error);
      sink.once('error', sinkFailed);
      response.on('data', (chunk: Buffer) => {
        watch.touch();
        if (sink.write(chunk)) return;
        response.pause();
        watch.hold();
        sink.once('drain', () => {
          watch.touch();
          response.resume();
        });
      });
      // Writes complete in order: the callback of an empty one comes after every byte before it was taken.
      response.on('end', () =>
        sink.write(Buffer.alloc(0), (error?: Error | null) => {
          sink.removeListener('error', sinkFailed);
          if (error) settle.reject(error);
          else settle.resolve();
        }),
      );
    });
  }

  /**
   * Whether the service answers. Nothing listening is `false`; a service that takes the connection and
   * does not answer within the health limit is an error: starting another one beside it would not help.
   */
  async isRunning(): Promise<boolean> {
    const health = await this.health();
    if (health instanceof Error) throw health;
    return health;
  }

  /** `GET /healthz`: up, down (nothing answers on the socket), or the error of a service that stalls. */
  private async health(): Promise<boolean | FleetError> {
    const { healthTimeoutMs } = this.limits;
    try {
      return (await this.send('GET', '/healthz', undefined, { ...this.limits, answerTimeoutMs: healthTimeoutMs, idleTimeoutMs: healthTimeoutMs })).status === 200;
    } catch (error) {
      return isFleetError(error) && error.code === 'timeout' ? error : false;
    }
  }

  /**
   * Starts the orchestrator service in the background when it is not running, and waits for it. A
   * service started here runs agents on `runtime` when given (else on its configured default).
   */
  async ensureRunning(options: { runtime?: AgentRuntimeKind; timeoutMs?: number } = {}): Promise<void> {
    if (await this.isRunning()) return;
    await mkdir(this.options.homeDir, { recursive: true, mode: 0o700 });
    const logPath = path.join(this.options.homeDir, 'orchestrator.log');
    const log = await open(logPath, 'a', 0o600);
    const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.ts');
    const inherited = this.options.serviceEnv ?? process.env;
    const env = {
      ...inherited,
      // Name lookups of every client's egress proxy share libuv's thread pool with file and crypto work (4 threads by default).
      UV_THREADPOOL_SIZE: inherited['UV_THREADPOOL_SIZE'] ?? String(SERVICE_THREADPOOL_SIZE),
      ...(options.runtime === undefined ? {} : { FLEET_RUNTIME: options.runtime }),
    };
    const child = spawn(process.execPath, [entry], { detached: true, stdio: ['ignore', log.fd, log.fd], env });
    child.unref();
    await log.close();
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      // A service still starting may be slow to answer: only the overall deadline gives up on it.
      if ((await this.health()) === true) return;
      // A service that found the home held lost a race with another CLI's: that one is starting, wait for it.
      if (child.exitCode !== null && child.exitCode !== HOME_HELD_EXIT_CODE) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new FleetError('unavailable', `the orchestrator service did not start; see ${logPath}`);
  }

  private send(method: Method, urlPath: string, body: unknown, limits: Readonly<ExchangeLimits>): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return this.exchange(method, urlPath, payload, limits, (response, watch, settle) =>
      this.readAll([method, urlPath], response, watch, settle, (text) => settle.resolve({ status: response.statusCode ?? 500, text })),
    );
  }

  /**
   * One request under the exchange's limits. `handle` gets the response and settles through `settle`; a
   * rejection releases the socket, so an answer given up on (too large, not JSON, stalled) does not keep
   * the connection, or the CLI, waiting.
   */
  private exchange<T>(
    method: Method,
    urlPath: string,
    payload: string | undefined,
    limits: Readonly<ExchangeLimits>,
    handle: (response: http.IncomingMessage, watch: ExchangeWatch, settle: Settle<T>) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let stalled: FleetError | undefined;
      const request = http.request({ socketPath: this.options.socketPath, path: urlPath, method, headers: this.headers(payload !== undefined) }, (response) => {
        this.noticeActor(response);
        response.on('error', (error) => settle.reject(stalled ?? this.brokenOff(method, urlPath, error)));
        handle(response, watch, settle);
      });
      const watch = new ExchangeWatch(request, limits, (stall) => (stalled = this.stalled(method, urlPath, stall)));
      const settle: Settle<T> = {
        resolve: (value) => {
          if (settled) return;
          settled = true;
          watch.finish();
          resolve(value);
        },
        reject: (error) => {
          if (settled) return;
          settled = true;
          watch.finish();
          request.destroy();
          reject(error);
        },
      };
      request.on('error', (error) => settle.reject(stalled ?? this.unreachable(error)));
      request.end(payload);
    });
  }

  /** The whole body as text, refused past the answer limit. */
  private readAll<T>(call: [Method, string], response: http.IncomingMessage, watch: ExchangeWatch, settle: Settle<T>, then: (text: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      watch.touch();
      size += chunk.length;
      if (size > this.limits.maxAnswerBytes) return settle.reject(this.tooLarge(...call));
      chunks.push(chunk);
    });
    response.on('end', () => then(Buffer.concat(chunks).toString('utf8')));
  }

  private noticeActor(response: http.IncomingMessage): void {
    const actor = response.headers[ACTING_AS_HEADER];
    if (typeof actor === 'string' && actor.length > 0) this.options.onActingAs?.(actor);
  }

  /** What to check when the service stalls: the address, the service's own log, and the limit that gave up. */
  private stalled(method: Method, urlPath: string, stall: Stall): FleetError {
    const seconds = stall.afterMs / 1000;
    const what =
      stall.kind === 'no-answer'
        ? `did not answer ${method} ${pathOnly(urlPath)} within ${seconds} s`
        : `stopped sending its answer to ${method} ${pathOnly(urlPath)} for ${seconds} s`;
    const change = method === 'GET' ? '' : '; the change may have been made: see fleet ops-log show before trying again';
    return new FleetError(
      'timeout',
      `the orchestrator at ${this.options.socketPath} ${what}: check that the service is running and not stuck (fleet service status; its log: ${path.join(this.options.homeDir, 'orchestrator.log')})${change}`,
      { retryable: method === 'GET' },
    );
  }

  private brokenOff(method: Method, urlPath: string, error: Error): FleetError {
    return new FleetError('unavailable', `the orchestrator at ${this.options.socketPath} broke off its answer to ${method} ${pathOnly(urlPath)}: ${error.message}`, {
      cause: error,
      retryable: method === 'GET',
    });
  }

  private tooLarge(method: Method, urlPath: string): FleetError {
    return new FleetError('internal', `the orchestrator's answer to ${method} ${pathOnly(urlPath)} is larger than ${this.limits.maxAnswerBytes} bytes: not read further`);
  }

  private unreachable(error: Error): FleetError {
    return new FleetError(
      'unavailable',
      `cannot reach the orchestrator at ${this.options.socketPath}: ${error.message}`,
      {
        cause: error,
        retryable: true,
      },
    );
  }
}

import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCodeOfResponse, isRetryableCode } from '@agent-fleet/kernel/error-status';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { HOME_HELD_EXIT_CODE } from '../adapters/process/home-lock.ts';
import { ACTING_AS_HEADER } from '../http/admin-auth.ts';

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

/** Talks to the orchestrator service over its owner-only unix socket, as the signed-in member when there is one. */
export class OrchestratorClient {
  private readonly options: ClientOptions;

  constructor(options: ClientOptions) {
    this.options = options;
  }

  /** The request headers: JSON, and the member's session as bearer. */
  private headers(json: boolean): Record<string, string> {
    return {
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...(this.options.sessionToken === undefined ? {} : { authorization: `Bearer ${this.options.sessionToken}` }),
    };
  }

  async request<T>(method: Method, urlPath: string, body?: unknown): Promise<T> {
    const { status, text } = await this.send(method, urlPath, body);
    if (status >= 400) throw errorFromAnswer(status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A request whose response is JSON lines, delivered one by one as they arrive. */
  async stream(urlPath: string, body: unknown, onLine: (line: unknown) => void): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const request = http.request(
        {
          socketPath: this.options.socketPath,
          path: urlPath,
          method: 'POST',
          headers: this.headers(true),
        },
        (response) => {
          this.noticeActor(response);
          const status = response.statusCode ?? 500;
          let buffer = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            buffer += chunk;
            if (status >= 400) return;
            let newline: number;
            while ((newline = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, newline);
              buffer = buffer.slice(newline + 1);
              if (line.trim()) onLine(JSON.parse(line));
            }
          });
          response.on('end', () => (status >= 400 ? reject(errorFromAnswer(status, buffer)) : resolve()));
          response.on('error', reject);
        },
      );
      request.on('error', (error) => reject(this.unreachable(error)));
      request.end(JSON.stringify(body ?? {}));
    });
  }

  /**
   * A GET whose body is copied as it arrives to `sink` (audit export, archives), at the sink's pace; settles
   * once the sink has taken the last byte (it is not ended: it may be the terminal).
   */
  download(urlPath: string, sink: NodeJS.WritableStream): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { socketPath: this.options.socketPath, path: urlPath, method: 'GET', headers: this.headers(false) },
        (response) => {
          const status = response.statusCode ?? 500;
          if (status >= 400) {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => reject(errorFromAnswer(status, text)));
            return;
          }
          response.on('data', (chunk: Buffer) => {
            if (sink.write(chunk)) return;
            response.pause();
            sink.once('drain', () => response.resume());
          });
          // Writes complete in order: the callback of an empty one comes after every byte before it was taken.
          response.on('end', () => sink.write(Buffer.alloc(0), (error?: Error | null) => (error ? reject(error) : resolve())));
          response.on('error', reject);
        },
      );
      request.on('error', (error) => reject(this.unreachable(error)));
      request.end();
    });
  }

  async isRunning(): Promise<boolean> {
    try {
      return (await this.send('GET', '/healthz')).status === 200;
    } catch {
      return false;
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
      if (await this.isRunning()) return;
      // A service that found the home held lost a race with another CLI's: that one is starting, wait for it.
      if (child.exitCode !== null && child.exitCode !== HOME_HELD_EXIT_CODE) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new FleetError('unavailable', `the orchestrator service did not start; see ${logPath}`);
  }

  private send(method: Method, urlPath: string, body?: unknown): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          socketPath: this.options.socketPath,
          path: urlPath,
          method,
          headers: this.headers(true),
        },
        (response) => {
          this.noticeActor(response);
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 500, text }));
          response.on('error', reject);
        },
      );
      request.on('error', (error) => reject(this.unreachable(error)));
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  private noticeActor(response: http.IncomingMessage): void {
    const actor = response.headers[ACTING_AS_HEADER];
    if (typeof actor === 'string' && actor.length > 0) this.options.onActingAs?.(actor);
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

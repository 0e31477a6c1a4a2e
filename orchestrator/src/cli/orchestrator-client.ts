import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';

export interface ClientOptions {
  socketPath: string;
  homeDir: string;
}

type Method = 'GET' | 'POST' | 'PUT';

/** Talks to the orchestrator service over its owner-only unix socket. */
export class OrchestratorClient {
  private readonly options: ClientOptions;

  constructor(options: ClientOptions) {
    this.options = options;
  }

  async request<T>(method: Method, urlPath: string, body?: unknown): Promise<T> {
    const { status, text } = await this.send(method, urlPath, body);
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (status >= 400) {
      const error = parsed as { code?: FleetErrorCode; message?: string } | undefined;
      throw new FleetError(error?.code ?? 'internal', error?.message ?? `orchestrator answered ${status}`);
    }
    return parsed as T;
  }

  /** A request whose response is JSON lines, delivered one by one as they arrive. */
  async stream(urlPath: string, body: unknown, onLine: (line: unknown) => void): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const request = http.request(
        { socketPath: this.options.socketPath, path: urlPath, method: 'POST', headers: { 'content-type': 'application/json' } },
        (response) => {
          let buffer = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            buffer += chunk;
            let newline: number;
            while ((newline = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, newline);
              buffer = buffer.slice(newline + 1);
              if (line.trim()) onLine(JSON.parse(line));
            }
          });
          response.on('end', () => {
            if ((response.statusCode ?? 500) >= 400) {
              const error = (buffer ? JSON.parse(buffer) : {}) as { code?: FleetErrorCode; message?: string };
              reject(new FleetError(error.code ?? 'internal', error.message ?? `orchestrator answered ${response.statusCode}`));
            } else resolve();
          });
          response.on('error', reject);
        },
      );
      request.on('error', (error) => reject(this.unreachable(error)));
      request.end(JSON.stringify(body ?? {}));
    });
  }

  /** A GET whose body is copied as it arrives to `sink` (audit export). */
  download(urlPath: string, sink: NodeJS.WritableStream): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = http.request({ socketPath: this.options.socketPath, path: urlPath, method: 'GET' }, (response) => {
        if ((response.statusCode ?? 500) >= 400) {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            const error = (text ? JSON.parse(text) : {}) as { code?: FleetErrorCode; message?: string };
            reject(new FleetError(error.code ?? 'internal', error.message ?? `orchestrator answered ${response.statusCode}`));
          });
          return;
        }
        response.on('data', (chunk: Buffer) => sink.write(chunk));
        response.on('end', () => resolve());
        response.on('error', reject);
      });
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

  /** Starts the orchestrator service in the background when it is not running, and waits for it. */
  async ensureRunning(timeoutMs = 120_000): Promise<void> {
    if (await this.isRunning()) return;
    await mkdir(this.options.homeDir, { recursive: true, mode: 0o700 });
    const logPath = path.join(this.options.homeDir, 'orchestrator.log');
    const log = await open(logPath, 'a', 0o600);
    const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.ts');
    const child = spawn(process.execPath, [entry], { detached: true, stdio: ['ignore', log.fd, log.fd], env: process.env });
    child.unref();
    await log.close();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.isRunning()) return;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new FleetError('unavailable', `the orchestrator service did not start; see ${logPath}`);
  }

  private send(method: Method, urlPath: string, body?: unknown): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        { socketPath: this.options.socketPath, path: urlPath, method, headers: { 'content-type': 'application/json' } },
        (response) => {
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

  private unreachable(error: Error): FleetError {
    return new FleetError('unavailable', `cannot reach the orchestrator at ${this.options.socketPath}: ${error.message}`, {
      cause: error,
      retryable: true,
    });
  }
}

// Helpers for tests that run the real Prometheus and Alertmanager (the Debian binaries) on loopback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../deploy/monitoring/render-config.ts';

export const MONITORING_UP = path.join(REPO_ROOT, 'deploy/monitoring/monitoring-up.sh');
export const MONITORING_DOWN = path.join(REPO_ROOT, 'deploy/monitoring/monitoring-down.sh');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded), never throwing on a non-zero exit. */
export function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; stdin?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd: REPO_ROOT, env: options.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    // A command that exits without reading its input must not fail the caller with EPIPE.
    child.stdin?.on('error', () => undefined);
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    else child.stdin?.end();
  });
}

export function assertSucceeded(result: RunResult, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
}

export interface WebhookCall {
  path: string;
  body: {
    receiver?: string;
    status?: string;
    groupLabels?: Record<string, string>;
    alerts?: { status?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
  };
}

export function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

export { freePort } from './free-port.ts';

export function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function exposition(lines: [name: string, type: 'gauge' | 'counter', value: number][]): string {
  return lines
    .map(([name, type, value]) => `# HELP ${name} ${name}\n# TYPE ${name} ${type}\n${name} ${value}\n`)
    .join('');
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  assert.ok(response.ok, `${init?.method ?? 'GET'} ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}

/** Last resort if monitoring-down.sh failed: SIGKILL the pids in its pid files that still run our config. */
export async function killLeftovers(monitoringDir: string): Promise<void> {
  for (const name of ['prometheus', 'alertmanager']) {
    const pidFile = path.join(monitoringDir, name, `${name}.pid`);
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(path.join(monitoringDir, 'config'))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}


/** A local receiver recording every Alertmanager webhook call (paths /page and /ops), in order. */
export async function startWebhookReceiver(): Promise<{ server: Server; port: number; calls: WebhookCall[] }> {
  const calls: WebhookCall[] = [];
  const { server, port } = await listen((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      calls.push({ path: request.url ?? '', body: JSON.parse(body) as WebhookCall['body'] });
      response.end('ok');
    });
  });
  return { server, port, calls };
}

/** Environment for monitoring-up.sh: loopback ports, 1 s scrape and evaluation, both webhooks local. */
export function monitoringEnv(
  base: NodeJS.ProcessEnv,
  ports: { prometheus: number; alertmanager: number; orchestrator: number; webhook: number },
): NodeJS.ProcessEnv {
  return {
    ...base,
    PROMETHEUS_PORT: String(ports.prometheus),
    ALERTMANAGER_PORT: String(ports.alertmanager),
    ORCHESTRATOR_ADDRESS: `127.0.0.1:${ports.orchestrator}`,
    SCRAPE_INTERVAL: '1s',
    EVALUATION_INTERVAL: '1s',
    PAGER_WEBHOOK_URL: `http://127.0.0.1:${ports.webhook}/page`,
    OPS_WEBHOOK_URL: `http://127.0.0.1:${ports.webhook}/ops`,
    READY_TIMEOUT_SECONDS: '30',
    NODE_BIN: process.execPath,
  };
}

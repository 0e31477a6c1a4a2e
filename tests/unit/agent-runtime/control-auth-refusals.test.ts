import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import type express from 'express';
import { Registry } from 'prom-client';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { ControlAuthRefusals } from '../../../agent-image/src/http/control-auth-refusals.ts';
import { createControlApp } from '../../../agent-image/src/http/control-server.ts';
import { createMetricsApp } from '../../../agent-image/src/http/metrics-server.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import type { ControlApi } from '../../../agent-image/src/services/runtime/control-api.ts';

interface LogLine {
  message: string;
  fields: Record<string, unknown>;
}

function recordingLogger(warnings: LogLine[]): Logger {
  const logger: Logger = {
    ...createSilentLogger(),
    warn: (message, fields = {}) => void warnings.push({ message, fields }),
    child: () => logger,
  };
  return logger;
}

async function listening(app: express.Express): Promise<{ server: Server; base: string; port: number }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, port };
}

/** The control API's refused credentials: counted on /metrics, logged a few times a minute, connection closed. */
describe('refused control tokens', () => {
  const token = randomBytes(24).toString('base64url');
  const warnings: LogLine[] = [];
  let introduced = true;
  let control: { server: Server; base: string; port: number };
  let exporter: { server: Server; base: string };

  before(async () => {
    const api = {
      clientId: 'acme',
      authenticate: async (bearer: string | null) => {
        if (!introduced) throw new FleetError('unavailable', 'the agent is not introduced yet');
        if (bearer !== token) throw new FleetError('unauthorized', 'missing or wrong control token');
      },
      status: () => ({ state: 'running' }),
      auditHead: () => null,
    } as unknown as ControlApi;
    const registry = new Registry();
    const metrics = new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
    control = await listening(createControlApp(api, recordingLogger(warnings), { metrics }));
    exporter = await listening(createMetricsApp(registry));
  });
  after(async () => {
    await new Promise((resolve) => control.server.close(resolve));
    await new Promise((resolve) => exporter.server.close(resolve));
  });
  beforeEach(() => {
    warnings.length = 0;
    introduced = true;
  });

  const refusals = async (): Promise<Map<string, number>> => {
    const text = await (await fetch(`${exporter.base}/metrics`)).text();
    const counts = new Map<string, number>();
    for (const match of text.matchAll(/^agent_control_auth_refusals_total\{(.*)\} (\S+)$/gm)) {
      const labels = Object.fromEntries([...(match[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
      counts.set(`${labels['route']}/${labels['reason']}`, Number(match[2]));
    }
    return counts;
  };
  const get = (path: string, authorization?: string) =>
    fetch(`${control.base}${path}`, authorization === undefined ? {} : { headers: { authorization } });

  test('every refusal is counted on /metrics by route family and reason, never by anything the caller sent', async () => {
    const before = await refusals();
    assert.equal(before.size, 10, 'every route family and reason is exported from the start');
    assert.ok([...before.values()].every((count) => count === 0));
    assert.equal((await get('/v1/status')).status, 401);
    assert.equal((await get('/v1/status', `Bearer ${randomBytes(24).toString('base64url')}`)).status, 401);
    assert.equal((await get('/v1/audit/head', `Basic ${randomBytes(12).toString('base64')}`)).status, 401);
    assert.equal((await get('/v1/audit/head', `Bearer ${'y'.repeat(5000)}`)).status, 401);
    assert.equal((await get('/v1/status', `Bearer ${token}`)).status, 200);
    const after = await refusals();
    assert.equal(after.size, 10, 'no series was added for what the caller sent');
    assert.equal(after.get('control/missing'), 1);
    assert.equal(after.get('control/wrong'), 1);
    assert.equal(after.get('audit/wrong'), 2);
    assert.equal([...after.values()].reduce((sum, count) => sum + count, 0), 4, 'the accepted token is not counted');
  });

  test('a request refused because the agent is not introduced yet is no credential refusal', async () => {
    introduced = false;
    const before = await refusals();
    assert.equal((await get('/v1/status', `Bearer ${token}`)).status, 503);
    assert.deepEqual(await refusals(), before);
    assert.deepEqual(warnings, []);
  });

  test('a flood of refusals writes a few warnings, none holding the token, the path or a header', async () => {
    const presented = randomBytes(24).toString('base64url');
    const path = `/v1/audit/head?probe=${randomBytes(6).toString('hex')}`;
    for (let index = 0; index < 40; index++) assert.equal((await get(path, `Bearer ${presented}`)).status, 401);
    assert.ok(warnings.length >= 1 && warnings.length <= 5, `${warnings.length} lines for 40 refusals`);
    const written = JSON.stringify(warnings);
    assert.ok(!written.includes(presented), 'no token material');
    assert.ok(!written.includes('probe='), 'not the path the caller sent');
    assert.deepEqual(
      { route: warnings[0]?.fields['route'], reason: warnings[0]?.fields['reason'], method: warnings[0]?.fields['method'] },
      { route: 'audit', reason: 'wrong', method: 'GET' },
    );
    assert.equal(typeof warnings[0]?.fields['remoteAddress'], 'string');
  });

  test('a refused answer closes the connection, so a body the caller announced cannot be trickled into it', async () => {
    const socket = connect(control.port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write('POST /v1/kill HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"reason":"');
    await new Promise<void>((resolve) => {
      const check = () => (received.includes('\r\n\r\n') ? resolve() : socket.once('data', check));
      check();
    });
    assert.match(received, /^HTTP\/1\.1 401 /);
    assert.match(received, /\r\nConnection: close\r\n/i);
    await closed;
    assert.ok(!socket.writable, 'the server ended the connection with the body still owed');
  });

  test('the authentication scheme is case-insensitive (RFC 9110): "bearer" is the control token too', async () => {
    assert.equal((await get('/v1/status', `bearer ${token}`)).status, 200);
    assert.equal((await get('/v1/status', `BEARER ${token}`)).status, 200);
  });

  test('of two Authorization headers only the first is read: a right token second does not pass', async () => {
    const socket = connect(control.port, '127.0.0.1');
    const head = new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n\r\n')) resolve(received);
      });
    });
    socket.write(`GET /v1/status HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer wrong\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    try {
      assert.match(await head, /^HTTP\/1\.1 401 /);
    } finally {
      socket.destroy();
    }
  });
});

describe('the refusal log budget', () => {
  const request = { method: 'POST', socket: { remoteAddress: '10.0.0.9' } } as unknown as express.Request;

  test('writes at most its lines per window, then says how many it left out', () => {
    const warnings: LogLine[] = [];
    let now = 1_000_000;
    const counted: string[] = [];
    const refusals = new ControlAuthRefusals({
      logger: recordingLogger(warnings),
      counter: { controlAuthRefused: (route, reason) => void counted.push(`${route}/${reason}`) },
      linesPerWindow: 3,
      windowMs: 60_000,
      now: () => now,
    });
    for (let index = 0; index < 100; index++) refusals.refused(request, 'control', 'wrong');
    assert.equal(counted.length, 100, 'every refusal is counted');
    assert.equal(warnings.length, 3);
    now += 59_999;
    refusals.refused(request, 'control', 'missing');
    assert.equal(warnings.length, 3, 'still the same window');
    now += 1;
    refusals.refused(request, 'approvals', 'missing');
    assert.equal(warnings.length, 4);
    assert.deepEqual(warnings[3]?.fields, { route: 'approvals', reason: 'missing', method: 'POST', remoteAddress: '10.0.0.9', suppressedBefore: 98 });
    assert.equal(warnings[0]?.fields['suppressedBefore'], 0);
  });

  test('a clock stepping back starts a new window rather than muting the log', () => {
    const warnings: LogLine[] = [];
    let now = 5_000_000;
    const refusals = new ControlAuthRefusals({ logger: recordingLogger(warnings), linesPerWindow: 1, windowMs: 60_000, now: () => now });
    refusals.refused(request, 'control', 'wrong');
    refusals.refused(request, 'control', 'wrong');
    now -= 3_600_000;
    refusals.refused(request, 'control', 'wrong');
    assert.equal(warnings.length, 2);
    assert.equal(warnings[1]?.fields['suppressedBefore'], 1);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { isFleetError, type FleetError } from '@agent-fleet/kernel/fleet-error';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';

/**
 * The CLI's client of the orchestrator service against a service on a unix socket that stalls in each way
 * a stuck process can: it takes the request and never answers, or answers and stops mid-body. The client
 * must give up with an error that says where and what to check, and release the connection (the server
 * sees it close), while a long download whose bytes keep coming, or that waits on a slow sink, goes on.
 */

/** A guard so that a client that hangs fails the test instead of hanging the run; nothing asserts on time. */
const HANG_GUARD = { timeout: 10_000 };

const LIMITS = { answerTimeoutMs: 60, idleTimeoutMs: 60, healthTimeoutMs: 60 };

describe('OrchestratorClient gives up on a stalled service and releases the socket', () => {
  let home: string;
  let socketPath: string;
  let server: Server;
  /** Resolves with the URL of each request once the server sees its connection close. */
  const closed = new Map<string, Promise<void>>();
  const secret = `s${randomBytes(12).toString('hex')}`;

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-stalls-'));
    socketPath = path.join(home, 'orchestrator.sock');
    server = http.createServer((request, response) => {
      const url = request.url ?? '';
      closed.set(url.split('?')[0] ?? url, new Promise((resolve) => request.socket.once('close', () => resolve())));
      request.resume();
      if (url.startsWith('/never') || url === '/healthz') return; // takes the request, never answers
      if (url.startsWith('/half-body')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        return void response.write('{"clients": [');
      }
      if (url.startsWith('/one-line')) {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' });
        return void response.write('{"plan":["create"]}\n');
      }
      if (url.startsWith('/not-json-line')) {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' });
        return void response.write('{"plan":["create"]}\n<html>proxy error</html>\n');
      }
      if (url.startsWith('/not-json')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(`{"token":"${secret}"`);
      }
      if (url.startsWith('/endless')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        const write = (): void => void (response.destroyed || response.write(Buffer.alloc(4096, 0x20), (error) => error ?? setImmediate(write)));
        return write();
      }
      if (url.startsWith('/archive-then-stall')) {
        response.writeHead(200, { 'content-type': 'application/x-tar' });
        return void response.write(Buffer.alloc(1000, 7));
      }
      if (url.startsWith('/archive')) {
        response.writeHead(200, { 'content-type': 'application/x-tar' });
        return response.end(Buffer.alloc(256 * 1024, 7));
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(home, { recursive: true, force: true });
  });

  const client = (limits: Partial<typeof LIMITS> & { maxAnswerBytes?: number } = LIMITS) =>
    new OrchestratorClient({ socketPath, homeDir: home, sessionToken: secret, limits });

  async function failure(call: Promise<unknown>): Promise<FleetError> {
    const error = await call.then(
      () => assert.fail('expected the call to fail'),
      (caught: unknown) => caught,
    );
    assert.ok(isFleetError(error), `a FleetError, not ${String(error)}`);
    return error;
  }

  function serverSawClose(urlPath: string): Promise<void> {
    const seen = closed.get(urlPath);
    assert.ok(seen, `the server got ${urlPath}`);
    return seen;
  }

  test('a service that takes the request and never answers: timeout naming the socket and what to check', HANG_GUARD, async () => {
    const error = await failure(client().request('GET', '/never?actor=ops'));
    assert.equal(error.code, 'timeout');
    assert.equal(error.retryable, true);
    assert.ok(error.message.includes(socketPath), error.message);
    assert.match(error.message, /did not answer GET \/never within 0\.06 s/);
    assert.match(error.message, /fleet service status/);
    assert.ok(error.message.includes(path.join(home, 'orchestrator.log')), error.message);
    assert.doesNotMatch(error.message, /actor=ops/, 'the query stays out of the message');
    await serverSawClose('/never');
  });

  test('a write that gets no answer says the change may have been made, and is not retryable', HANG_GUARD, async () => {
    const error = await failure(client().request('POST', '/never-write', { reason: 'x' }));
    assert.equal(error.code, 'timeout');
    assert.equal(error.retryable, false);
    assert.match(error.message, /did not answer POST \/never-write/);
    assert.match(error.message, /the change may have been made: see fleet ops-log show/);
    await serverSawClose('/never-write');
  });

  test('an answer whose body stops midway: timeout, and the socket is released', HANG_GUARD, async () => {
    const error = await failure(client().request('GET', '/half-body'));
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /stopped sending its answer to GET \/half-body for 0\.06 s/);
    await serverSawClose('/half-body');
  });

  test('a provisioning stream that stops after a line: the line arrives, then timeout', HANG_GUARD, async () => {
    const lines: unknown[] = [];
    const error = await failure(client().stream('/one-line', {}, (line) => lines.push(line)));
    assert.deepEqual(lines, [{ plan: ['create'] }]);
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /stopped sending its answer to POST \/one-line/);
    await serverSawClose('/one-line');
  });

  test('a download that stops midway: timeout, and the socket is released', HANG_GUARD, async () => {
    const received: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (received.push(chunk), done()) });
    const error = await failure(client().download('/archive-then-stall', sink));
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /stopped sending its answer to GET \/archive-then-stall/);
    assert.equal(Buffer.concat(received).length, 1000);
    await serverSawClose('/archive-then-stall');
  });

  test('a download waiting on a slow sink longer than the idle limit is not given up on', HANG_GUARD, async () => {
    let taken = 0;
    let held = 0;
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, done) {
        taken += chunk.length;
        // The first chunk is held past several idle limits: the wait is the sink's, not the service's.
        if (held++ === 0) setTimeout(done, LIMITS.idleTimeoutMs * 5);
        else done();
      },
    });
    await client().download('/archive', sink);
    assert.equal(taken, 256 * 1024);
  });

  test('a service that takes the health check and never answers is an error, not "not running"', HANG_GUARD, async () => {
    const error = await failure(client().isRunning());
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /did not answer GET \/healthz/);
    await serverSawClose('/healthz');
  });

  test('nothing listening is "not running", not an error', async () => {
    const absent = new OrchestratorClient({ socketPath: path.join(home, 'absent.sock'), homeDir: home, limits: LIMITS });
    assert.equal(await absent.isRunning(), false);
  });

  test('a stream line that is not JSON fails the call (no uncaught exception) and releases the socket', HANG_GUARD, async () => {
    const lines: unknown[] = [];
    const error = await failure(client().stream('/not-json-line', {}, (line) => lines.push(line)));
    assert.equal(error.code, 'internal');
    assert.match(error.message, /holds a line that is not JSON/);
    assert.deepEqual(lines, [{ plan: ['create'] }]);
    await serverSawClose('/not-json-line');
  });

  test('an answer that is not JSON is refused without quoting it (it may hold a token)', HANG_GUARD, async () => {
    const error = await failure(client().request('POST', '/not-json', {}));
    assert.equal(error.code, 'internal');
    assert.match(error.message, /answer to POST \/not-json is not JSON/);
    const chain = [error.message, String((error.cause as Error | undefined)?.message ?? '')].join('\n');
    assert.ok(!chain.includes(secret), 'the answer text is not in the error or its cause');
  });

  test('an answer larger than the limit is refused and the socket released', HANG_GUARD, async () => {
    const error = await failure(client({ ...LIMITS, idleTimeoutMs: 60_000, maxAnswerBytes: 64 * 1024 }).request('GET', '/endless'));
    assert.equal(error.code, 'internal');
    assert.match(error.message, /answer to GET \/endless is larger than 65536 bytes/);
    await serverSawClose('/endless');
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError, type FleetError } from '@agent-fleet/kernel/fleet-error';
import { agentRequest, fleetCaAgent, readText } from '../../../orchestrator/src/adapters/http/agent-https.ts';
import { HttpAgentControl } from '../../../orchestrator/src/adapters/http/http-agent-control.ts';
import { agentTlsServer, testFleetCa } from '../../helpers/agent-tls.ts';

/**
 * The orchestrator's client of an agent's control API against an agent that stalls: a streamed call
 * (audit export, data export) must give up when the answer does not begin, when the body stands still,
 * or when its caller stops waiting, and release the connection each time (the agent sees it close).
 */

/** A guard so that a call that hangs fails the test instead of hanging the run; nothing asserts on time. */
const HANG_GUARD = { timeout: 10_000 };

function keepWriting(response: ServerResponse): void {
  if (response.destroyed) return;
  response.write(Buffer.alloc(16 * 1024, 0x61), (error) => error ?? setImmediate(() => keepWriting(response)));
}

describe('HttpAgentControl.stream gives up on stalls and releases the socket', () => {
  let server: Server;
  let address: string;
  let control: HttpAgentControl;
  const acme = parseClientId('acme');
  const closed = new Map<string, Promise<void>>();
  const token = randomBytes(12).toString('hex');
  const secretInAnswer = randomBytes(12).toString('hex');

  before(async () => {
    ({ server, address } = await agentTlsServer(acme, (request, response) => {
      const path = (request.url ?? '').split('?')[0] ?? '';
      closed.set(path, new Promise((resolve) => request.socket.once('close', () => resolve())));
      request.resume();
      if (path === '/never') return;
      if (path === '/half') {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' });
        return void response.write('{"seq":1}\n');
      }
      if (path === '/not-json') return response.writeHead(200, { 'content-type': 'application/json' }).end(`{"note":"${secretInAnswer}`);
      if (path.startsWith('/endless')) {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        return keepWriting(response);
      }
      response.writeHead(404).end();
    }));
    control = new HttpAgentControl({
      caPem: (await testFleetCa()).certificatePem,
      streamLimits: { answerTimeoutMs: 60, idleTimeoutMs: 60 },
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function failure(call: Promise<unknown>): Promise<unknown> {
    return call.then(
      () => assert.fail('expected the call to fail'),
      (caught: unknown) => caught,
    );
  }

  async function fleetFailure(call: Promise<unknown>): Promise<FleetError> {
    const error = await failure(call);
    assert.ok(isFleetError(error), `a FleetError, not ${String(error)}`);
    return error;
  }

  function agentSawClose(path: string): Promise<void> {
    const seen = closed.get(path);
    assert.ok(seen, `the agent got ${path}`);
    return seen;
  }

  test('an agent that takes the call and never answers: timeout naming the agent, socket released', HANG_GUARD, async () => {
    const error = await fleetFailure(control.stream(acme, address, token, '/never', new PassThrough()));
    assert.equal(error.code, 'timeout');
    assert.equal(error.retryable, true);
    assert.match(error.message, /GET \/never: the agent at 127\.0\.0\.1:\d+ did not answer within 0\.06 s/);
    assert.ok(!error.message.includes(token), 'the control token is not in the message');
    await agentSawClose('/never');
  });

  test('a body that stops midway: what came reaches the sink, then timeout, socket released', HANG_GUARD, async () => {
    const sink = new PassThrough();
    let written = '';
    sink.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const error = await fleetFailure(control.stream(acme, address, token, '/half', sink));
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /GET \/half: the agent at .* moved no byte for 0\.06 s/);
    assert.equal(written, '{"seq":1}\n');
    await agentSawClose('/half');
  });

  test('a caller that stops reading: the stream is given up on and the socket released', HANG_GUARD, async () => {
    const unread = new PassThrough({ highWaterMark: 1024 });
    const error = await fleetFailure(control.stream(acme, address, token, '/endless-unread', unread));
    assert.equal(error.code, 'timeout');
    await agentSawClose('/endless-unread');
  });

  test('a caller that destroys its sink: the call ends and the socket is released', HANG_GUARD, async () => {
    const sink = new Writable({
      write(_chunk: Buffer, _encoding, done) {
        done();
        sink.destroy(new Error('the doctor stopped waiting'));
      },
    });
    await failure(control.stream(acme, address, token, '/endless-destroyed', sink));
    await agentSawClose('/endless-destroyed');
  });

  test('a caller’s abort signal ends the call and releases the socket', HANG_GUARD, async () => {
    const caller = new AbortController();
    const sink = new Writable({
      write(_chunk: Buffer, _encoding, done) {
        caller.abort(new Error('no longer needed'));
        done();
      },
    });
    await failure(control.stream(acme, address, token, '/endless-aborted', sink, { signal: caller.signal }));
    await agentSawClose('/endless-aborted');
  });

  test('a JSON answer past the limit is refused and the socket released', HANG_GUARD, async () => {
    const response = await agentRequest(fleetCaAgent((await testFleetCa()).certificatePem), acme, address, { method: 'GET', path: '/endless-large' });
    const error = await fleetFailure(readText(response, 64 * 1024));
    assert.equal(error.code, 'integrity');
    assert.match(error.message, /larger than 65536 bytes/);
    await agentSawClose('/endless-large');
  });

  test('an answer that is not JSON is refused without quoting it', async () => {
    const error = await fleetFailure(control.request(acme, address, token, 'GET', '/not-json'));
    assert.equal(error.code, 'integrity');
    assert.match(error.message, /GET \/not-json: the agent's answer is not JSON/);
    assert.ok(!error.message.includes(secretInAnswer), 'the answer is not quoted');
  });
});

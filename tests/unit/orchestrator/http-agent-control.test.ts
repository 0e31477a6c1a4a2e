import assert from 'node:assert/strict';
import http from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';
import {
  HttpAgentControl,
  introductionTimeoutMs,
  MIN_INTRODUCTION_TIMEOUT_MS,
  readyPollIntervalMs,
} from '../../../orchestrator/src/adapters/http/http-agent-control.ts';
import { agentTlsServer, testFleetCa } from '../../helpers/agent-tls.ts';

/**
 * The orchestrator's client of an agent's control API against a tiny local server that answers each
 * path the way an agent, or a proxy in front of it, could: the agent's `{ code, message }` body must keep
 * its code across the hop; a page without one is decoded from the status.
 */
describe('HttpAgentControl decodes the agent’s error answers with the kernel’s one table', () => {
  let server: Server;
  let address: string;
  let control: HttpAgentControl;
  const acme = parseClientId('acme');
  const seen: Array<{ method: string; url: string; authorization: string | undefined }> = [];

  before(async () => {
    ({ server, address } = await agentTlsServer(acme, (request, response) => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        authorization: request.headers.authorization,
      });
      const json = (status: number, body: unknown) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const path = (request.url ?? '').split('?')[0];
      if (path === '/v1/audit/export' && request.url?.includes('broken'))
        return json(422, {
          code: 'integrity',
          message: 'audit record 1 in audit-2026-01-01.log is undecryptable',
        });
      if (path === '/v1/audit/export')
        return response
          .writeHead(200, { 'content-type': 'application/x-ndjson' })
          .end('{"seq":1}\n{"seq":2}\n');
      if (path === '/v1/audit/verify')
        return json(422, { code: 'integrity', message: 'the last audit record (3) does not match its hash' });
      if (path === '/v1/status')
        return response
          .writeHead(502, { 'content-type': 'text/html' })
          .end('<html><body>502 Bad Gateway</body></html>');
      if (path === '/v1/resume') return json(409, { code: 'killed', message: 'the agent is killed' });
      if (path === '/v1/approvals') return json(503, { code: 'not-one-of-ours', message: 'warming up' });
      if (path === '/v1/introduce') return json(403, { code: 'forbidden', message: 'foreign introduction' });
      if (path === '/v1/audit/head') return json(200, { seq: 3, hash: 'ab' });
      return json(404, { code: 'not_found', message: 'no such route' });
    }));
    control = new HttpAgentControl({ caPem: (await testFleetCa()).certificatePem });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function failure(
    call: Promise<unknown>,
  ): Promise<{ code: FleetErrorCode; retryable: boolean; message: string }> {
    const error = await call.then(
      () => assert.fail('expected the call to fail'),
      (caught: unknown) => caught,
    );
    assert.ok(isFleetError(error), `a FleetError, not ${String(error)}`);
    return { code: error.code, retryable: error.retryable, message: error.message };
  }

  test('a 422 { code: integrity } stays integrity and is not retryable', async () => {
    const error = await failure(control.request(acme, address, 'token-1', 'GET', '/v1/audit/verify'));
    assert.deepEqual(
      { code: error.code, retryable: error.retryable },
      { code: 'integrity', retryable: false },
    );
    assert.match(
      error.message,
      /GET \/v1\/audit\/verify: the last audit record \(3\) does not match its hash/,
    );
    assert.equal(seen.at(-1)?.authorization, 'Bearer token-1', 'the control token goes as a bearer token');
  });

  test('a non-JSON 502 from a proxy is unavailable and retryable', async () => {
    const error = await failure(control.request(acme, address, 'token-1', 'GET', '/v1/status'));
    assert.deepEqual(
      { code: error.code, retryable: error.retryable },
      { code: 'unavailable', retryable: true },
    );
    assert.match(error.message, /answered HTTP 502/);
  });

  test('the body’s code wins over the status, and a code that is not ours falls back to the status', async () => {
    const killed = await failure(control.request(acme, address, 'token-1', 'POST', '/v1/resume', { by: 'ops' }));
    assert.deepEqual(
      { code: killed.code, retryable: killed.retryable },
      { code: 'killed', retryable: false },
    );
    const foreign = await failure(control.request(acme, address, 'token-1', 'GET', '/v1/approvals'));
    assert.deepEqual(
      { code: foreign.code, retryable: foreign.retryable },
      { code: 'unavailable', retryable: true },
    );
  });

  test('a streamed export that fails before its first byte is integrity; a good one reaches the sink', async () => {
    const error = await failure(
      control.stream(acme, address, 'token-1', '/v1/audit/export?format=jsonl&broken=1', new PassThrough()),
    );
    assert.deepEqual(
      { code: error.code, retryable: error.retryable },
      { code: 'integrity', retryable: false },
    );
    const sink = new PassThrough();
    let written = '';
    sink.on('data', (chunk: Buffer) => (written += chunk.toString()));
    await control.stream(acme, address, 'token-1', '/v1/audit/export?format=jsonl', sink);
    assert.equal(written, '{"seq":1}\n{"seq":2}\n');
  });

  test('introduction errors keep their code too', async () => {
    const error = await failure(
      control.introduce(acme, address, {
        wrappingToken: 'w',
        vaultAddr: 'http://vault:8200',
        creationPath: 'auth/token/create',
      }),
    );
    assert.deepEqual(
      { code: error.code, retryable: error.retryable },
      { code: 'forbidden', retryable: false },
    );
  });

  test('a successful JSON answer is returned as is', async () => {
    assert.deepEqual(await control.request(acme, address, 'token-1', 'GET', '/v1/audit/head'), {
      seq: 3,
      hash: 'ab',
    });
  });

  test('an agent that does not answer at all is unavailable and retryable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(control.request(acme, `127.0.0.1:${port}`, 'token-1', 'GET', '/v1/status'));
    assert.deepEqual(
      { code: error.code, retryable: error.retryable },
      { code: 'unavailable', retryable: true },
    );
    assert.match(error.message, /agent unreachable/);
  });
});

describe('HttpAgentControl.waitReady asks again soon after a not-ready answer', () => {
  const acme = parseClientId('acme');
  let server: Server;
  let address: string;
  let readyAfter = 0;
  let asked = 0;

  before(async () => {
    ({ server, address } = await agentTlsServer(acme, (_request, response) => {
      asked += 1;
      const ready = asked > readyAfter;
      response
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(ready ? '{"ready":true}' : '{"ready":false,"reason":"introducing"}');
    }));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('ready at the fifth ask: it is asked exactly five times and answers', async () => {
    const control = new HttpAgentControl({ caPem: (await testFleetCa()).certificatePem });
    readyAfter = 4;
    asked = 0;
    await control.waitReady(acme, address, 5000);
    assert.equal(asked, 5);
  });

  test('the pauses start at 10 ms and grow by half each ask up to 100 ms', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((ask) => Math.round(readyPollIntervalMs(ask) * 10) / 10),
      [10, 15, 22.5, 33.8, 50.6, 75.9, 100, 100],
    );
  });

  test('never ready: times out with the agent’s last reason, retryably', async () => {
    const control = new HttpAgentControl({ caPem: (await testFleetCa()).certificatePem });
    readyAfter = Number.POSITIVE_INFINITY;
    asked = 0;
    await assert.rejects(
      control.waitReady(acme, address, 1000),
      (error: unknown) => isFleetError(error) && error.code === 'timeout' && error.retryable && /not ready within 1 s: introducing$/.test(error.message),
    );
    assert.ok(asked >= 1, 'it asked before giving up');
  });
});

describe('HttpAgentControl waits for the introduction as long as it was configured to', () => {
  const acme = parseClientId('acme');
  let server: Server;
  let address: string;
  let answerAfterMs = 0;

  before(async () => {
    ({ server, address } = await agentTlsServer(acme, (_request, response) => {
      setTimeout(() => response.writeHead(204).end(), answerAfterMs);
    }));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const payload = { wrappingToken: 'w', vaultAddr: 'http://vault:8200', creationPath: 'auth/token/create' };

  test('an agent answering after the configured wait is unreachable, retryably', async () => {
    const control = new HttpAgentControl({ caPem: (await testFleetCa()).certificatePem, introductionTimeoutMs: 50 });
    answerAfterMs = 1000;
    await assert.rejects(
      control.introduce(acme, address, payload),
      (error: unknown) => isFleetError(error) && error.code === 'unavailable' && error.retryable && /agent unreachable/.test(error.message),
    );
  });

  test('the same slow agent is waited for when the wait is longer', async () => {
    const control = new HttpAgentControl({ caPem: (await testFleetCa()).certificatePem, introductionTimeoutMs: 10_000 });
    answerAfterMs = 200;
    await control.introduce(acme, address, payload);
  });

  test('the wait follows the health timeout, never below the floor', () => {
    assert.equal(introductionTimeoutMs(5_000), MIN_INTRODUCTION_TIMEOUT_MS);
    assert.equal(introductionTimeoutMs(120_000), 120_000);
  });
});

// Every answer from Bullhorn is read only up to a bound: an answer that never ends (a broken proxy, a
// hostile host behind a hijacked name) must fail the call, not fill the agent's memory.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { REST_ANSWER_MAX_BYTES } from '../../../agent-image/src/adapters/bullhorn/bullhorn-answer.ts';
import { BullhornRest } from '../../../agent-image/src/adapters/bullhorn/bullhorn-rest.ts';
import { BullhornSession } from '../../../agent-image/src/adapters/bullhorn/bullhorn-session.ts';

/** A Bullhorn stand-in whose login works and whose REST answers are that many bytes of valid JSON. */
function oversizedBullhorn(answerBytes: () => number): Server {
  const session = `s-${Math.random().toString(36).slice(2)}`;
  return createServer((request, response) => {
    const base = `http://127.0.0.1:${(request.socket.address() as AddressInfo).port}`;
    const path = new URL(request.url ?? '/', base).pathname;
    if (path === '/oauth/token') return sendJson(response, { access_token: `a-${session}`, expires_in: 600 });
    if (path === '/rest-services/login') return sendJson(response, { BhRestToken: session, restUrl: `${base}/rest-services/c1/` });
    if (request.headers['bhresttoken'] !== session) return sendJson(response, { errorMessage: 'bad token' }, 401);
    const bytes = answerBytes();
    response.writeHead(200, { 'content-type': 'application/json' });
    // Valid JSON however long: only the size can refuse it.
    response.write('{"data":[],"padding":"');
    const chunk = 'x'.repeat(64 * 1024);
    for (let written = 0; written < bytes; written += chunk.length) response.write(chunk);
    response.end('"}');
  });
}

function sendJson(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

describe('Bullhorn answers are read within a bound', () => {
  let server: Server;
  let rest: BullhornRest;
  let answerBytes = 0;

  before(async () => {
    server = oversizedBullhorn(() => answerBytes);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const logger = createSilentLogger();
    const session = new BullhornSession({
      authUrl: url,
      loginUrl: `${url}/rest-services/login`,
      clientId: 'client',
      clientSecret: ['not', 'a', 'secret'].join('-'),
      refreshToken: 'refresh',
      onRefreshTokenRotated: async () => undefined,
      logger,
    });
    rest = new BullhornRest(session, { logger });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads an answer of ordinary size', async () => {
    answerBytes = 1024;
    const body = await rest.call('search', { method: 'GET', path: 'search/ClientContact', query: { query: 'id:1' } });
    assert.deepEqual(body['data'], []);
  });

  it('refuses an answer past the bound with an integrity error instead of reading it all', async () => {
    answerBytes = REST_ANSWER_MAX_BYTES * 4;
    await assert.rejects(
      rest.call('search', { method: 'GET', path: 'search/ClientContact', query: { query: 'id:1' } }),
      (error: unknown) => error instanceof FleetError && error.code === 'integrity' && /over \d+ bytes/.test(error.message),
    );
  });
});

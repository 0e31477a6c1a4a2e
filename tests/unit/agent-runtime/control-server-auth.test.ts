import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { createControlApp } from '../../../agent-image/src/http/control-server.ts';
import type { ControlApi, IntroduceInput } from '../../../agent-image/src/services/runtime/control-api.ts';

/** The control app's authenticated routes against callers without the control token. */
describe('the control API before the control token is checked', () => {
  const token = randomBytes(24).toString('base64url');
  const kills: Array<{ reason: string; by: string }> = [];
  const introductions: IntroduceInput[] = [];
  const errors: string[] = [];
  let server: Server;
  let base: string;

  before(async () => {
    const api = {
      clientId: 'acme',
      authenticate: async (bearer: string | null) => {
        if (bearer !== token) throw new FleetError('unauthorized', 'missing or wrong control token');
      },
      killAgent: async (reason: string, by: string) => void kills.push({ reason, by }),
      introduce: async (input: IntroduceInput) => void introductions.push(input),
    } as unknown as ControlApi;
    const logger: Logger = { ...createSilentLogger(), error: (message) => void errors.push(message), child: () => logger };
    server = createControlApp(api, logger).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body: string, bearer?: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }) },
      body,
    });

  test('a body sent without the control token is never parsed: the answer is 401 whatever it holds', async () => {
    const stranger = randomBytes(24).toString('base64url');
    for (const [what, body] of [
      ['broken JSON', '{"reason":'],
      ['a body past the limit', JSON.stringify({ reason: 'x'.repeat(300_000), by: 'mallory' })],
      ['a well-formed body', JSON.stringify({ reason: 'because', by: 'mallory' })],
      ['a broken gzip stream', 'not gzip at all'],
    ] as const) {
      for (const bearer of [undefined, stranger]) {
        const response = await post('/v1/kill', body, bearer, what === 'a broken gzip stream' ? { 'content-encoding': 'gzip' } : {});
        assert.equal(response.status, 401, `${what}, ${bearer === undefined ? 'no token' : 'a wrong token'}`);
        assert.equal(((await response.json()) as { code: string }).code, 'unauthorized');
      }
    }
    assert.deepEqual(kills, []);
    assert.deepEqual(errors, []);
  });

  test('with the control token the body is read and checked as before', async () => {
    assert.equal((await post('/v1/kill', '{"reason":', token)).status, 400);
    assert.equal((await post('/v1/kill', JSON.stringify({ reason: 'x'.repeat(300_000), by: 'ops' }), token)).status, 400);
    const unreadable = await post('/v1/kill', 'not gzip at all', token, { 'content-encoding': 'gzip' });
    assert.equal(unreadable.status, 400, 'an unreadable body is the caller\'s 400, never a 500');
    assert.equal(((await unreadable.json()) as { code: string }).code, 'invalid_input');
    assert.deepEqual(errors, [], 'nothing a caller sends is logged as our error');
    assert.equal((await post('/v1/kill', JSON.stringify({ reason: 'incident', by: 'ops' }), token)).status, 204);
    assert.deepEqual(kills, [{ reason: 'incident', by: 'ops' }]);
  });

  test('the introduction, open by design, still reads its body', async () => {
    const input = { wrappingToken: randomBytes(12).toString('hex'), creationPath: 'auth/token/create/fleet-acme' };
    assert.equal((await post('/v1/introduce', JSON.stringify(input))).status, 204);
    assert.deepEqual(introductions, [input]);
    assert.equal((await post('/v1/introduce', '{"wrappingToken":')).status, 400);
  });
});

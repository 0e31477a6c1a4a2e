import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { createControlApp } from '../../../agent-image/src/http/control-server.ts';
import { parseGraphNotification } from '../../../agent-image/src/services/mail-watch/mail-notification.ts';
import type { ControlApi } from '../../../agent-image/src/services/runtime/control-api.ts';

/** The public notification route, mounted in the real control app, against hostile bodies and queries. */
describe('the public mail notification route', () => {
  const errors: string[] = [];
  const clientState = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
  let received = 0;
  let server: Server;
  let url: string;

  before(async () => {
    const logger: Logger = { ...createSilentLogger(), error: (message) => void errors.push(message), child: () => logger };
    // Only the notification sink is reached by these requests; anything else would be a test failure.
    const api = new Proxy({} as ControlApi, {
      get: (_target, key) => {
        if (key === 'acceptsGraphValidation') return () => true;
        // Graph carries its secret in the body: nothing to check before it is read.
        if (key === 'checkPushToken') return () => undefined;
        if (key === 'authenticate') {
          return async () => {
            throw new FleetError('unauthorized', 'missing or wrong control token');
          };
        }
        if (key === 'receiveMailNotification') {
          return async (input: { body: unknown }) => {
            received++;
            return parseGraphNotification(input.body, clientState);
          };
        }
        return () => {
          throw new Error(`unexpected call of ${String(key)}`);
        };
      },
    });
    server = createControlApp(api, logger).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/mail-notifications`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (query: string, headers: Record<string, string>, body?: string | Uint8Array) =>
    fetch(`${url}${query}`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });

  test('a body the parser cannot read is the caller’s 400, never a 500 with an error log', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['broken gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip at all'],
      ['truncated brotli', { 'content-type': 'application/json', 'content-encoding': 'br' }, 'xx'],
      ['unknown encoding', { 'content-type': 'application/json', 'content-encoding': 'compress' }, '{}'],
      ['unknown charset', { 'content-type': 'application/json; charset=ebcdic' }, '{}'],
      ['bad JSON', { 'content-type': 'application/json' }, '{"value":'],
    ];
    for (const [what, headers, body] of cases) {
      const response = await post('', headers, body);
      assert.equal(response.status, 400, what);
      assert.match(String(response.headers.get('content-type')), /^application\/json/, what);
      assert.equal(((await response.json()) as { code: string }).code, 'invalid_input', what);
    }
    assert.deepEqual(errors, [], 'nothing an outsider sends is logged as our error');
    assert.equal(received, 0);
  });

  test('the other control routes do not read a body before the token is checked: an unreadable one without it is a 401', async () => {
    errors.length = 0;
    const control = url.replace('/v1/mail-notifications', '/v1/kill');
    const response = await fetch(control, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip at all' });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { code: string }).code, 'unauthorized');
    assert.deepEqual(errors, []);
  });

  test('a refused validation token is answered as a JSON error, not as text/plain', async () => {
    const response = await post('?validationToken=', {});
    assert.equal(response.status, 400);
    assert.match(String(response.headers.get('content-type')), /^application\/json/);
    const echoed = await post(`?validationToken=${encodeURIComponent('<b>Validation</b>')}`, { 'content-type': 'text/plain' });
    assert.equal(echoed.status, 200);
    assert.match(String(echoed.headers.get('content-type')), /^text\/plain/);
    assert.equal(echoed.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await echoed.text(), '<b>Validation</b>');
  });

  test('an authentic Graph batch is accepted and a forged one refused', async () => {
    errors.length = 0;
    const item = (state: string) => ({ subscriptionId: 'sub-1', changeType: 'created', clientState: state });
    assert.equal((await post('', { 'content-type': 'application/json' }, JSON.stringify({ value: [item(clientState)] }))).status, 202);
    assert.equal((await post('', { 'content-type': 'application/json' }, JSON.stringify({ value: [item(`${clientState}x`)] }))).status, 403);
    assert.deepEqual(errors, []);
  });
});

// Every answer of the control API is about one client (its mail, approvals, audit, state) or a refusal:
// no cache between the orchestrator or the portal and the agent may keep one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createControlApp } from '../../../agent-image/src/http/control-server.ts';
import type { ControlApi } from '../../../agent-image/src/services/runtime/control-api.ts';

const token = randomBytes(24).toString('base64url');
let server: Server;
let base: string;

before(async () => {
  const api = {
    clientId: 'acme',
    readiness: () => ({ ready: false, reason: 'not introduced' }),
    authenticate: async (bearer: string | null) => {
      if (bearer !== token) throw new FleetError('unauthorized', 'missing or wrong control token');
    },
    status: () => ({ paused: false, killed: false }),
    clientViews: () => ({
      approval: async (id: string) => ({ id, draft: { to: ['someone@example.com'], subject: 'Quarterly figures', body: 'the whole draft' } }),
    }),
  } as unknown as ControlApi;
  server = createControlApp(api, createSilentLogger()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('every control API answer, data or refusal, is marked Cache-Control: no-store', async () => {
  const authorized = { authorization: `Bearer ${token}` };
  const cases: Array<[string, string, RequestInit, number]> = [
    ['an approval with its draft', '/v1/approvals/a1', { headers: authorized }, 200],
    ['the status', '/v1/status', { headers: authorized }, 200],
    ['readiness', '/readyz', {}, 503],
    ['liveness', '/healthz', {}, 200],
    ['a refused token', '/v1/approvals/a1', {}, 401],
    ['an invalid id', '/v1/approvals/not%20an%20id', { headers: authorized }, 400],
    ['an unreadable body', '/v1/kill', { method: 'POST', headers: { ...authorized, 'content-type': 'application/json' }, body: '{"reason":' }, 400],
    ['an unknown route', '/v1/nothing-here', {}, 404],
  ];
  for (const [what, path, init, status] of cases) {
    const response = await fetch(`${base}${path}`, init);
    await response.arrayBuffer();
    assert.equal(response.status, status, what);
    assert.equal(response.headers.get('cache-control'), 'no-store', what);
  }
});

test('the open introduction routes read at most 4 kB: a larger body is refused before anything else', async () => {
  const oversized = JSON.stringify({ wrappingToken: 'w'.repeat(5000), creationPath: 'auth/token/create/agent' });
  for (const path of ['/v1/introduce', '/v1/data-export/session']) {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: oversized });
    const body = (await response.json()) as { message: string };
    assert.ok(response.status === 400 || response.status === 413, `${path}: ${response.status}`);
    assert.match(body.message, /4096 bytes/, path);
  }
});

// The ops API's access rules against express's own route matching: express routes ignore case and a
// trailing slash and answer HEAD with the GET route, so a rule that missed those variants let the
// read-only machine token (or the socket without a session) reach client data.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { MemberPrincipal } from '../../../orchestrator/src/domain/team-member.ts';
import { authenticateOps, type OpsTransport } from '../../../orchestrator/src/http/admin-auth.ts';
import { errorMiddleware } from '../../../orchestrator/src/http/error-middleware.ts';
import { opsAccessOf } from '../../../orchestrator/src/http/ops-access.ts';

const STALE = 'fs1.stale-session-token-of-alice';
const MACHINE = 'machine-read-token-0123456789';
const stale: MemberPrincipal = {
  member: 'alice',
  sessionExpiresAt: '2099-01-01T00:00:00.000Z',
  secondFactorAt: '2026-01-01T00:00:00.000Z',
  freshSecondFactor: false,
};

/** Routes declared as the real routers declare them (express defaults: case-insensitive, not strict). */
function app(transport: OpsTransport, ran: string[]): express.Express {
  const server = express();
  const router = express.Router();
  router.get('/clients/:id/export', (request, response) => {
    ran.push(`export ${String(request.query['actor'])}`);
    response.json({ actor: request.query['actor'] ?? null });
  });
  router.get('/clients/:id/approvals', (request, response) => {
    ran.push(`approvals ${String(request.query['actor'])}`);
    response.json({ actor: request.query['actor'] ?? null });
  });
  router.post('/team/members/:name/remove', (_request, response) => {
    ran.push('remove');
    response.json({});
  });
  server.use(
    '/v1',
    express.json(),
    authenticateOps({
      transport,
      sessions: { authenticate: async (token) => (token === STALE ? stale : null) },
      hasActiveGrant: async (clientId, member) => clientId === 'acme' && member === 'bob',
      teamIsEmpty: async () => false,
      adminTokenSha256: createHash('sha256').update(MACHINE).digest('hex'),
    }),
    router,
  );
  server.use(errorMiddleware(createSilentLogger()));
  return server;
}

async function serve(server: express.Express): Promise<{ http: Server; base: string }> {
  const http = await new Promise<Server>((resolve) => {
    const listening = server.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { http, base: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

describe('access rules see the route express runs', () => {
  const ran: string[] = [];
  let tcp: { http: Server; base: string };
  let socket: { http: Server; base: string };
  before(async () => {
    tcp = await serve(app('tcp', ran));
    socket = await serve(app('socket', ran));
  });
  after(() => {
    tcp.http.close();
    socket.http.close();
  });

  const call = async (base: string, method: string, path: string, token?: string) =>
    (
      await fetch(`${base}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(method === 'POST' ? { body: '{}' } : {}),
      })
    ).status;

  const exportVariants = [
    '/v1/clients/acme/export/',
    '/v1/Clients/acme/Export',
    '/v1/CLIENTS/acme/EXPORT/',
  ];

  test('the read-only machine token never runs a client export, whatever the spelling of its path', async () => {
    ran.length = 0;
    for (const path of exportVariants) {
      assert.equal(await call(tcp.base, 'GET', `${path}?actor=mallory`, MACHINE), 403, path);
      assert.equal(await call(tcp.base, 'HEAD', `${path}?actor=mallory`, MACHINE), 403, `HEAD ${path}`);
    }
    assert.deepEqual(ran, []);
  });

  test('the socket without a session, or a session without a fresh code, never runs one either', async () => {
    ran.length = 0;
    for (const path of exportVariants) {
      assert.equal(await call(socket.base, 'GET', path), 401, path);
      assert.equal(await call(socket.base, 'GET', path, STALE), 403, path);
    }
    assert.equal(await call(socket.base, 'POST', '/v1/Team/Members/bob/Remove/', STALE), 403);
    assert.deepEqual(ran, []);
  });

  test('a grant read under another spelling still acts as the signed-in member', async () => {
    ran.length = 0;
    assert.equal(await call(socket.base, 'GET', '/v1/Clients/acme/Approvals/?actor=bob', STALE), 200);
    assert.deepEqual(ran, ['approvals alice'], 'the caller cannot borrow bob’s grant by naming him');
  });

  test('the rules read a path as express routes it', () => {
    assert.deepEqual(opsAccessOf('HEAD', '/Clients/ACME/Audit/Export/'), {
      access: 'fresh',
      actorInQuery: true,
      clientId: 'ACME',
    });
    assert.equal(opsAccessOf('head', '/clients').access, 'read');
    assert.equal(opsAccessOf('GET', '/').access, 'read');
    assert.equal(opsAccessOf('POST', '/Sessions/').access, 'public');
  });
});

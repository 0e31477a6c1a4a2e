// The authentication in front of the ops API, on a tiny app with sessions given by a stand-in: who may do
// what on which listener, and that the actor a route reads is the session's member, whatever was sent.
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

const FRESH = 'fs1.fresh-session-token-of-alice';
const STALE = 'fs1.stale-session-token-of-alice';
const MACHINE = 'machine-read-token-0123456789';
const principals: Record<string, MemberPrincipal> = {
  [FRESH]: {
    member: 'alice',
    sessionExpiresAt: '2099-01-01T00:00:00.000Z',
    secondFactorAt: '2026-01-01T00:00:00.000Z',
    freshSecondFactor: true,
  },
  [STALE]: {
    member: 'alice',
    sessionExpiresAt: '2099-01-01T00:00:00.000Z',
    secondFactorAt: '2026-01-01T00:00:00.000Z',
    freshSecondFactor: false,
  },
};

function app(transport: OpsTransport, grants: string[] = [], teamIsEmpty = false): express.Express {
  const server = express();
  server.use(
    express.json(),
    authenticateOps({
      transport,
      sessions: { authenticate: async (token) => principals[token] ?? null },
      hasActiveGrant: async (clientId, member) => grants.includes(`${clientId}:${member}`),
      teamIsEmpty: async () => teamIsEmpty,
      adminTokenSha256: createHash('sha256').update(MACHINE).digest('hex'),
    }),
  );
  server.all('/{*rest}', (request, response) => {
    response.json({ body: request.body ?? null, actor: request.query['actor'] ?? null });
  });
  server.use(errorMiddleware(createSilentLogger()));
  return server;
}

async function serve(server: express.Express): Promise<{ http: Server; base: string }> {
  const http = await new Promise<Server>((resolve) => {
    const listening = server.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { http, base: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

describe('authentication of the ops API', () => {
  let socket: { http: Server; base: string };
  let tcp: { http: Server; base: string };
  let granted: { http: Server; base: string };
  let freshInstall: { http: Server; base: string };
  let freshInstallTcp: { http: Server; base: string };
  before(async () => {
    socket = await serve(app('socket'));
    tcp = await serve(app('tcp'));
    granted = await serve(app('socket', ['acme:alice']));
    freshInstall = await serve(app('socket', [], true));
    freshInstallTcp = await serve(app('tcp', [], true));
  });
  after(() => {
    for (const server of [socket, tcp, granted, freshInstall, freshInstallTcp]) server.http.close();
  });

  const call = async (base: string, method: string, path: string, token?: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      actingAs: response.headers.get('x-fleet-acting-as'),
      body: (await response.json()) as { body?: unknown; actor?: unknown; code?: string; message?: string },
    };
  };

  test('the session’s member replaces whatever actor a change or a member read names', async () => {
    const change = await call(socket.base, 'POST', '/clients/acme/kill', FRESH, {
      reason: 'x',
      actor: 'mallory',
    });
    assert.deepEqual(change.body.body, { reason: 'x', actor: 'alice' });
    assert.equal(change.actingAs, null, 'a signed-in member is no setup actor');
    const noBody = await call(socket.base, 'POST', '/clients/acme/resume', FRESH);
    assert.deepEqual(noBody.body.body, { actor: 'alice' });
    const read = await call(socket.base, 'GET', '/clients/acme/export?actor=mallory', FRESH);
    assert.equal(read.body.actor, 'alice');
  });

  test('without a session: reads open on the socket only, changes refused 401, a bad token refused', async () => {
    assert.equal((await call(socket.base, 'GET', '/clients')).status, 200);
    assert.equal((await call(tcp.base, 'GET', '/clients')).status, 401);
    const change = await call(socket.base, 'POST', '/clients/acme/kill', undefined, {
      reason: 'x',
      actor: 'alice',
    });
    assert.equal(change.status, 401);
    assert.match(change.body.message ?? '', /sign in first/);
    assert.equal((await call(socket.base, 'GET', '/clients', 'fs1.unknown-token-00000')).status, 401);
    assert.equal(
      (await call(socket.base, 'GET', '/clients/acme/export')).status,
      401,
      'client data is never anonymous',
    );
  });

  test('before the first member, changes on the socket are made as setup@socket; never client data, never on TCP', async () => {
    const change = await call(freshInstall.base, 'POST', '/clients/acme/provision', undefined, {
      actor: 'mallory',
    });
    assert.equal(change.status, 200);
    assert.deepEqual(change.body.body, { actor: 'setup@socket' });
    assert.equal(change.actingAs, 'setup@socket', 'the CLI is told, so it can warn that no member made the change');
    assert.equal((await call(freshInstall.base, 'GET', '/clients')).actingAs, null, 'a read made nothing as anyone');
    assert.equal((await call(freshInstall.base, 'GET', '/clients/acme/export')).status, 401);
    assert.equal((await call(freshInstall.base, 'GET', '/clients/acme/audit/export')).status, 401);
    assert.equal(
      (await call(freshInstallTcp.base, 'POST', '/clients/acme/provision', undefined, {})).status,
      401,
    );
    const forged = await call(freshInstall.base, 'POST', '/clients/acme/kill', 'fs1.unknown-token-00000', {});
    assert.equal(forged.status, 401, 'a bad session is refused, not taken for setup');
  });

  test('the first member may be added without a session on the socket only', async () => {
    assert.equal(
      (await call(socket.base, 'POST', '/team/members', undefined, { name: 'alice' })).status,
      200,
    );
    assert.equal((await call(tcp.base, 'POST', '/team/members', undefined, { name: 'alice' })).status, 401);
    assert.equal(
      (await call(socket.base, 'POST', '/sessions', undefined, { member: 'alice', code: '123456' })).status,
      200,
    );
  });

  test('client data needs a fresh code; a grant-read needs one only under an active grant', async () => {
    const stale = await call(socket.base, 'GET', '/clients/acme/audit/export', STALE);
    assert.equal(stale.status, 403);
    assert.match(stale.body.message ?? '', /within the last 15 minutes/);
    assert.equal((await call(socket.base, 'GET', '/clients/acme/audit/export', FRESH)).status, 200);
    assert.equal(
      (await call(socket.base, 'GET', '/clients/acme/approvals', STALE)).status,
      200,
      'counts only without a grant',
    );
    assert.equal(
      (await call(granted.base, 'GET', '/clients/acme/approvals', STALE)).status,
      403,
      'content under the grant',
    );
    assert.equal(
      (await call(socket.base, 'POST', '/clients/acme/kill', STALE, { reason: 'x' })).status,
      200,
      'a change needs only the session',
    );
  });

  test('the TCP admin token only reads, and never client data', async () => {
    assert.equal((await call(tcp.base, 'GET', '/clients', MACHINE)).status, 200);
    const change = await call(tcp.base, 'POST', '/clients/acme/kill', MACHINE, { reason: 'x' });
    assert.equal(change.status, 403);
    assert.match(change.body.message ?? '', /only reads/);
    assert.equal((await call(tcp.base, 'GET', '/clients/acme/export', MACHINE)).status, 403);
    assert.equal(
      (await call(socket.base, 'GET', '/clients', MACHINE)).status,
      401,
      'the machine token is a TCP credential',
    );
  });
});

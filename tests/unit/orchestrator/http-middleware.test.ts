import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { FleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { requireAdminToken } from '../../../orchestrator/src/http/admin-auth.ts';
import { errorMiddleware } from '../../../orchestrator/src/http/error-middleware.ts';

const TOKEN = 'adm_3f9c1e7b5a2d4c6e8f0a1b2c3d4e5f60';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A tiny app: /secured behind the token (configured hash or none), /fail/:code throwing each error kind. */
function buildApp(tokenSha256: string | undefined): express.Express {
  const app = express();
  app.use(express.json({ limit: '1kb' }));
  app.get('/secured', requireAdminToken(tokenSha256), (_request, response) => {
    response.json({ ok: true });
  });
  app.post('/echo', (request, response) => {
    response.json(request.body);
  });
  app.get('/fail/:code', (request) => {
    throw new FleetError(request.params['code'] as FleetErrorCode, `failure ${request.params['code']}`);
  });
  app.get('/crash', () => {
    throw new Error('database password=hunter2 leaked in a driver message');
  });
  app.use(errorMiddleware(createSilentLogger()));
  return app;
}

async function serve(app: express.Express): Promise<{ server: Server; base: string }> {
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('admin token and error middleware', () => {
  let open: { server: Server; base: string };
  let closed: { server: Server; base: string };
  before(async () => {
    open = await serve(buildApp(sha256(TOKEN)));
    closed = await serve(buildApp(undefined));
  });
  after(() => {
    open.server.close();
    closed.server.close();
  });

  test('the right bearer token is let through', async () => {
    const response = await fetch(`${open.base}/secured`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ok: true });
  });

  test('a missing, wrong or malformed token is 401 with a code and a message', async () => {
    const headers: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `bearer ${TOKEN}` },
      { authorization: TOKEN },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { authorization: `Bearer ${sha256(TOKEN)}` },
      { authorization: 'Bearer short' },
      { authorization: `Bearer ${'a'.repeat(600)}` },
      { authorization: `Bearer ${TOKEN} extra` },
    ];
    for (const header of headers) {
      const response = await fetch(`${open.base}/secured`, { headers: header });
      assert.equal(response.status, 401, JSON.stringify(header).slice(0, 80));
      assert.deepEqual(await response.json(), { code: 'unauthorized', message: 'missing or invalid admin bearer token' });
    }
  });

  test('without a configured token hash the API is closed to everyone (403)', async () => {
    const response = await fetch(`${closed.base}/secured`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 403);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, 'forbidden');
    assert.match(body.message, /ORCHESTRATOR_ADMIN_TOKEN_SHA256/);
  });

  test('each error code maps to its HTTP status with { code, message }', async () => {
    const expected: Record<FleetErrorCode, number> = {
      invalid_input: 400,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      busy: 409,
      killed: 409,
      integrity: 422,
      timeout: 504,
      unavailable: 503,
      internal: 500,
    };
    for (const [code, status] of Object.entries(expected)) {
      const response = await fetch(`${open.base}/fail/${code}`);
      assert.equal(response.status, status, code);
      assert.deepEqual(await response.json(), { code, message: `failure ${code}` });
    }
  });

  test('an unexpected error is a 500 that reveals nothing of its message', async () => {
    const response = await fetch(`${open.base}/crash`);
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { code: 'internal', message: 'internal error' });
    assert.ok(!text.includes('hunter2'));
  });

  test('malformed and oversized JSON bodies are 4xx invalid_input, not 500', async () => {
    const malformed = await fetch(`${open.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { code: string }).code, 'invalid_input');
    const oversized = await fetch(`${open.base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(4096) }),
    });
    assert.equal(oversized.status, 413);
    assert.equal(((await oversized.json()) as { code: string }).code, 'invalid_input');
  });
});

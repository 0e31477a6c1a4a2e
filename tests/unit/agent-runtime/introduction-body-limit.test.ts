// The open introduction routes read a body from anyone who reaches the control port: the bound is what the
// largest valid introduction needs, not the control API's default 256 kB.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { INTRODUCTION_BODY_LIMIT_BYTES, introductionBody, introductionBodyParser } from '../../../agent-image/src/http/introduction-body.ts';

describe('the introduction body parser', () => {
  let server: Server;
  let url: string;

  before(async () => {
    const app = express();
    app.post('/', introductionBodyParser(), (request, response) => {
      response.json({ valid: introductionBody.safeParse(request.body).success });
    });
    app.use((error: { status?: number; type?: string }, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
      response.status(error.status ?? 500).json({ type: error.type });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  test('takes the largest valid introduction', async () => {
    const vaultAddr = `https://vault.example/${'p'.repeat(1000 - 'https://vault.example/'.length)}`;
    const largest = JSON.stringify({ wrappingToken: 'w'.repeat(1000), vaultAddr, creationPath: `auth/token/create/${'c'.repeat(200 - 18)}` });
    const response = await post(largest);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { valid: true });
  });

  test('refuses a body past the bound without parsing it', async () => {
    const response = await post(JSON.stringify({ wrappingToken: 'w', creationPath: 'x', pad: 'p'.repeat(INTRODUCTION_BODY_LIMIT_BYTES) }));
    assert.equal(response.status, 413);
    assert.deepEqual(await response.json(), { type: 'entity.too.large' });
  });
});

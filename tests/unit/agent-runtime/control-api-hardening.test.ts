import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { createControlApp } from '../../../agent-image/src/http/control-server.ts';
import type { ControlApi, IntroduceInput } from '../../../agent-image/src/services/runtime/control-api.ts';

const CONFIGURED_VAULT = 'https://vault.fleet.internal:8200';

/** The control app against hostile callers: bodies, paths, introductions and readers that go away. */
describe('the control API against hostile input', () => {
  const token = randomBytes(24).toString('base64url');
  const introductions: IntroduceInput[] = [];
  const decisions: unknown[] = [];
  const errors: string[] = [];
  let exportFailure: Error | null = null;
  let exportSourceClosed = false;
  let server: Server;
  let base: string;
  let closedResponses = 0;
  const onResponseClosed: Array<() => void> = [];

  before(async () => {
    const api = {
      clientId: 'acme',
      authenticate: async (bearer: string | null) => {
        if (bearer !== token) throw new FleetError('unauthorized', 'missing or wrong control token');
      },
      introduce: async (input: IntroduceInput) => void introductions.push(input),
      decide: async (id: string, body: unknown) => {
        decisions.push(body);
        return { record: { id, status: 'approved' }, execution: 'done' };
      },
      exportAudit: async (_format: string, sink: NodeJS.WritableStream) => {
        if (exportFailure !== null) throw exportFailure;
        // Writes as the audit log does: a full buffer waits for 'drain'.
        const source = (async function* () {
          try {
            for (;;) yield 'x'.repeat(1 << 20);
          } finally {
            exportSourceClosed = true;
          }
        })();
        let count = 0;
        for await (const chunk of source) {
          count++;
          if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
        }
        return count;
      },
    } as unknown as ControlApi;
    const logger: Logger = { ...createSilentLogger(), error: (message) => void errors.push(message), child: () => logger };
    const app = createControlApp(api, logger, { vaultAddr: CONFIGURED_VAULT });
    server = createServer((request, response) => {
      response.once('close', () => {
        closedResponses++;
        for (const notify of onResponseClosed.splice(0)) notify();
      });
      app(request, response);
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body: string, bearer?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }) },
      body,
    });
  const introduction = { wrappingToken: randomBytes(12).toString('hex'), creationPath: 'auth/token/create/fleet-acme' };

  test('a path that is not valid percent-encoding is the caller’s 400, with or without a token, and logs nothing', async () => {
    for (const headers of [{}, { authorization: `Bearer ${token}` }]) {
      const response = await fetch(`${base}/v1/approvals/%E0%A4%A`, { headers });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { code: string; message: string };
      assert.equal(body.code, 'invalid_input');
      assert.doesNotMatch(body.message, /%E0/, 'the path is not echoed');
    }
    assert.deepEqual(errors, []);
  });

  test('a body with a prototype key at any depth is refused whole, before any route sees it', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const nested = `{"decision":"edit","by":"ops","arguments":{"to":["a@example.com"],"${key}":{"polluted":true}}}`;
      const response = await post('/v1/approvals/a1/decision', nested, token);
      assert.equal(response.status, 400, key);
      const body = (await response.json()) as { code: string; message: string };
      assert.equal(body.code, 'invalid_input');
      assert.match(body.message, new RegExp(key));
      const open = await post('/v1/introduce', `{"wrappingToken":"w","creationPath":"auth/token/create/fleet-acme","${key}":{}}`);
      assert.equal(open.status, 400, `introduction with ${key}`);
    }
    assert.deepEqual(decisions, []);
    assert.deepEqual(introductions, []);
    assert.deepEqual(errors, []);
    const plain = await post('/v1/approvals/a1/decision', JSON.stringify({ decision: 'edit', by: 'ops', arguments: { to: ['a@example.com'] } }), token);
    assert.equal(plain.status, 200, 'an ordinary body still goes through');
  });

  test('an open introduction naming another Vault than the configured one is refused and never redeemed', async () => {
    introductions.length = 0;
    for (const vaultAddr of ['http://vault.fleet.internal:8200', 'https://attacker.example:8200', 'https://vault.fleet.internal:8201']) {
      const response = await post('/v1/introduce', JSON.stringify({ ...introduction, vaultAddr }));
      assert.equal(response.status, 403, vaultAddr);
      assert.equal(((await response.json()) as { code: string }).code, 'forbidden');
    }
    assert.deepEqual(introductions, []);
    for (const vaultAddr of [CONFIGURED_VAULT, 'https://VAULT.fleet.internal:8200/']) {
      assert.equal((await post('/v1/introduce', JSON.stringify({ ...introduction, vaultAddr }))).status, 204, vaultAddr);
    }
    assert.equal((await post('/v1/introduce', JSON.stringify(introduction))).status, 204);
    assert.deepEqual(introductions, [introduction, introduction, introduction], 'the configured Vault is used, never the address sent');
  });

  test('a streamed export that fails before its first byte answers JSON, not its stream type', async () => {
    exportFailure = new FleetError('integrity', 'the audit chain is broken');
    try {
      const response = await fetch(`${base}/v1/audit/export?format=csv`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status >= 400, true);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(((await response.json()) as { code: string }).code, 'integrity');
    } finally {
      exportFailure = null;
    }
  });

  test('a reader that disconnects mid-export stops the export and closes its source', async () => {
    const closedBefore = closedResponses;
    const responseClosed = new Promise<void>((resolve) => onResponseClosed.push(resolve));
    await new Promise<void>((resolve, reject) => {
      const request = get(`${base}/v1/audit/export`, { headers: { authorization: `Bearer ${token}` } }, (response) => {
        assert.equal(response.statusCode, 200);
        // Reads nothing of the body and goes away: the server's buffer is full and never drains.
        request.destroy();
        resolve();
      });
      request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
    });
    await responseClosed;
    assert.equal(closedResponses, closedBefore + 1);
    // The export reacts to the close itself, within the event-loop turns that follow it.
    for (let turn = 0; turn < 5 && !exportSourceClosed; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(exportSourceClosed, true, 'the export stopped reading once its reader was gone');
    assert.deepEqual(errors, [], 'a reader going away is not our error');
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';
import {
  FleetApiClient,
  mailboxConnectTarget,
  type ProvisionLine,
} from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';

interface Seen {
  method: string;
  url: string;
  body: unknown;
}

/**
 * The CLI's typed API client against a tiny service on a unix socket: each call goes to its URL with the
 * operator as actor, and an error answer comes back as the FleetError the service raised, decoded with
 * the kernel's table whatever the hop (JSON, JSON lines, a download, a proxy's page).
 */
/** A body of many chunks, so that a slow sink still has some queued when the response ends. */
const ARCHIVE = Buffer.alloc(600_000, 7);

describe('FleetApiClient', () => {
  let home: string;
  let server: Server;
  let api: FleetApiClient;
  const seen: Seen[] = [];
  const acme = parseClientId('acme');

  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'fleet-api-client-'));
    const socketPath = path.join(home, 'orchestrator.sock');
    server = http.createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const url = request.url ?? '';
        seen.push({ method: request.method ?? '', url, body: text ? JSON.parse(text) : undefined });
        const json = (status: number, body: unknown) =>
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (url === '/healthz') return json(200, { status: 'ok' });
        if (url.startsWith('/v1/clients/acme/export?')) {
          response.writeHead(200, { 'content-type': 'application/x-tar' });
          return response.end(ARCHIVE);
        }
        if (url === '/v1/clients')
          return json(200, { clients: [{ id: 'acme', status: 'active', subnet: null }] });
        if (url === '/v1/clients/acme/kill')
          return json(200, { clientId: 'acme', revokedTokens: 2, containerStopped: true, durationMs: 80 });
        if (url.startsWith('/v1/clients/acme/audit/export'))
          return json(422, { code: 'integrity', message: 'audit record 1 is undecryptable' });
        if (url === '/v1/clients/acme/audit/verify')
          return response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
        if (url === '/v1/clients/acme/rotate')
          return json(409, { code: 'busy', message: 'another operation holds acme' });
        if (url.startsWith('/v1/clients/acme/mailbox-consent'))
          return json(200, { clientId: 'acme', provider: 'gmail', scopes: ['s1', 's2'] });
        if (url === '/v1/clients/acme/secrets/gmail')
          return json(200, { clientId: 'acme', name: 'gmail', version: 3 });
        if (url === '/v1/clients/acme/provision') {
          response.writeHead(200, { 'content-type': 'application/x-ndjson' });
          response.write(`${JSON.stringify({ plan: ['network', 'container'] })}\n`);
          response.write(`${JSON.stringify({ event: { type: 'step-started', step: 'network' } })}\n`);
          return response.end(
            `${JSON.stringify({ error: { code: 'integrity', message: 'step "container" failed: chain broken' } })}\n`,
          );
        }
        return json(404, { code: 'not_found', message: `no route ${url}` });
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    api = new FleetApiClient(new OrchestratorClient({ socketPath, homeDir: home }), 'ops@host');
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(home, { recursive: true, force: true });
  });

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

  test('calls go to their URL with the operator as actor, and results come back typed', async () => {
    assert.deepEqual(await api.listClients(), [{ id: 'acme', status: 'active', subnet: null }]);
    const killed = await api.kill(acme, 'compromised');
    assert.equal(killed.revokedTokens, 2);
    assert.deepEqual(seen.at(-1), {
      method: 'POST',
      url: '/v1/clients/acme/kill',
      body: { reason: 'compromised', actor: 'ops@host' },
    });
  });

  test('a 422 { code: integrity } is integrity, with the service’s message, not retryable', async () => {
    const sink = new PassThrough();
    const error = await failure(
      api.exportAudit(acme, { format: 'jsonl', since: '2026-01-01T00:00:00Z' }, sink),
    );
    assert.deepEqual(error, {
      code: 'integrity',
      retryable: false,
      message: 'audit record 1 is undecryptable',
    });
    assert.equal(
      seen.at(-1)?.url,
      '/v1/clients/acme/audit/export?format=jsonl&actor=ops%40host&since=2026-01-01T00%3A00%3A00Z',
    );
    assert.equal(sink.read(), null, 'nothing of the error reaches the export sink');
  });

  test('a non-JSON 502 is unavailable and retryable; a JSON busy is busy and retryable', async () => {
    assert.deepEqual(await failure(api.verifyAudit(acme)), {
      code: 'unavailable',
      retryable: true,
      message: 'orchestrator answered 502',
    });
    assert.deepEqual(await failure(api.rotate(acme, 'scheduled')), {
      code: 'busy',
      retryable: true,
      message: 'another operation holds acme',
    });
    assert.equal((await failure(api.describeClient(parseClientId('nobody')))).code, 'not_found');
  });

  test('an error line of the provisioning stream arrives as the FleetError it was', async () => {
    const lines: ProvisionLine[] = [];
    await api.provision(acme, { runtime: 'docker' }, (line) => lines.push(line));
    assert.deepEqual(seen.at(-1)?.body, { runtime: 'docker', actor: 'ops@host' });
    assert.deepEqual(lines.slice(0, 2), [
      { plan: ['network', 'container'] },
      { event: { type: 'step-started', step: 'network' } },
    ]);
    const last = lines.at(-1);
    assert.ok(last && 'error' in last && isFleetError(last.error));
    assert.equal(last.error.code, 'integrity');
    assert.equal(last.error.message, 'step "container" failed: chain broken');
  });

  test('as the consent flow’s target: scopes from the service, tokens stored through the secrets route', async () => {
    const target = mailboxConnectTarget(api);
    assert.deepEqual(await target.consentScopes(acme, 'gmail'), ['s1', 's2']);
    assert.equal(seen.at(-1)?.url, '/v1/clients/acme/mailbox-consent?provider=gmail');
    assert.deepEqual(await target.storeSecret(acme, 'gmail', '{"refresh_token":"r"}'), { version: 3 });
    assert.deepEqual(seen.at(-1), {
      method: 'PUT',
      url: '/v1/clients/acme/secrets/gmail',
      body: { value: '{"refresh_token":"r"}', actor: 'ops@host' },
    });
  });

  test('a download settles only once a slow sink has taken every byte (an archive is hashed and kept whole)', async () => {
    let taken = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => {
          taken += chunk.length;
          callback();
        }, 1);
      },
    });
    await api.downloadExport(acme, slow);
    assert.equal(taken, ARCHIVE.length, 'every byte reached the sink before the download settled');
  });

  test('a service that is not there is unavailable and retryable', async () => {
    const gone = new FleetApiClient(
      new OrchestratorClient({ socketPath: path.join(home, 'nothing.sock'), homeDir: home }),
      'ops@host',
    );
    const error = await failure(gone.listClients());
    assert.equal(error.code, 'unavailable');
    assert.equal(error.retryable, true);
  });
});

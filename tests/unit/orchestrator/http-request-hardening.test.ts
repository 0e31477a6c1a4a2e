// Requests the ops API used to misread: a body sent as another type than JSON was skipped unread (a
// provision then ran on the default config), and a client id with a line break in the export path went
// into a header and came back as a 500.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Orchestrator } from '../../../orchestrator/src/orchestrator.ts';
import { serveApiRouter } from './api-router-server.ts';

describe('ops API request bodies and paths', () => {
  const calls: string[] = [];
  let server: Server;
  let base: string;

  before(async () => {
    // Only what the routes under test reach; anything else would throw and show up as a 500.
    const orchestrator = {
      provision: {
        plannedSteps: () => ['registry'],
        provision: (request: { configYaml?: string }) => {
          calls.push(`provision ${request.configYaml ?? '(defaults)'}`);
          return Promise.resolve({ outcome: 'provisioned' });
        },
      },
      dataLifecycle: {
        exports: {
          export: (request: { clientId: string }) => {
            calls.push(`export ${request.clientId}`);
            if (request.clientId === 'gone') return Promise.reject(new FleetError('not_found', 'no client "gone" in the registry'));
            return Promise.resolve();
          },
        },
      },
    } as unknown as Orchestrator;
    ({ server, base } = await serveApiRouter(orchestrator));
  });
  after(() => server.close());

  test('a body that is not JSON is refused by its type, and the route does not run on its defaults', async () => {
    calls.length = 0;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/yaml']) {
      const response = await fetch(`${base}/clients/acme/provision`, { method: 'POST', headers: { 'content-type': type }, body: '{"config":"client: acme\\n"}' });
      assert.equal(response.status, 400, type);
      const answer = (await response.json()) as { code: string; message: string };
      assert.equal(answer.code, 'invalid_input');
      assert.match(answer.message, /the request body must be JSON \(Content-Type: application\/json\)/);
    }
    assert.deepEqual(calls, [], 'nothing was provisioned');
  });

  test('a JSON body, or none at all, is read as before', async () => {
    calls.length = 0;
    const sent = await fetch(`${base}/clients/acme/provision`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"config":"client: acme\\n"}' });
    assert.equal(sent.status, 200);
    await sent.text();
    const bare = await fetch(`${base}/clients/acme/provision`, { method: 'POST' });
    assert.equal(bare.status, 200);
    await bare.text();
    assert.deepEqual(calls, ['provision client: acme\n', 'provision (defaults)']);
  });

  test('an export path whose client id would break the download header is a 400', async () => {
    calls.length = 0;
    for (const id of ['a%0D%0ASet-Cookie:%20x=1', 'a%22b']) {
      const response = await fetch(`${base}/clients/${id}/export`);
      assert.equal(response.status, 400, id);
      assert.equal(((await response.json()) as { code: string }).code, 'invalid_input');
    }
    assert.deepEqual(calls, []);
  });

  test('a refused download is the JSON error, without the attachment name that would save it as the archive', async () => {
    const response = await fetch(`${base}/clients/gone/export?actor=ops`);
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('content-disposition'), null);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await response.json()) as { code: string }).code, 'not_found');
  });
});

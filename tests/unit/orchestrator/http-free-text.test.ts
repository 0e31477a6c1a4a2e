// Text and numbers the ops API used to pass on as given: a reason, note or summary holding a terminal
// escape or a bidirectional override reached the ops log, `fleet` output and the portal; a settings version
// written `1e3` or `0x10` in the path read another version than the one named.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Orchestrator } from '../../../orchestrator/src/orchestrator.ts';
import { serveApiRouter } from './api-router-server.ts';

describe('ops API free text and version numbers', () => {
  const calls: string[] = [];
  let server: Server;
  let base: string;

  before(async () => {
    // Only what the routes under test reach: each records its call.
    const record = (name: string) => (...args: unknown[]) => {
      calls.push(`${name} ${JSON.stringify(args)}`);
      return Promise.resolve({ recorded: name });
    };
    const orchestrator = {
      settings: { version: record('version'), history: record('history'), change: record('change'), rollback: record('rollback') },
      kill: { kill: record('kill') },
      incidents: {
        incidents: { open: record('open'), note: record('note'), close: record('close') },
        containment: { contain: record('contain') },
      },
    } as unknown as Orchestrator;
    ({ server, base } = await serveApiRouter(orchestrator));
  });
  after(() => server.close());

  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; message: string }> {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as { message?: string };
    return { status: response.status, message: answer.message ?? '' };
  }

  test('a reason, summary or note with a control character or a bidirectional override is refused by field; nothing is called', async () => {
    calls.length = 0;
    const cases: [string, string, unknown, RegExp][] = [
      ['PUT', '/clients/acme/settings', { baseVersion: 3, yaml: 'client: acme\n', reason: 'tidy\u001b[2J' }, /reason: must not contain U\+001B \(a control character\), found at character 5/],
      ['POST', '/clients/acme/settings/rollback', { toVersion: 2, reason: 'back\u0000' }, /reason: must not contain U\+0000/],
      ['POST', '/clients/acme/kill', { reason: 'stop \u202eti' }, /reason: must not contain U\+202E \(a bidirectional override\)/],
      ['POST', '/incidents', { severity: 'high', summary: 'leak\u001b]0;title\u0007' }, /summary: must not contain U\+001B/],
      ['POST', '/incidents', { severity: 'high', summary: 'two\nlines' }, /summary: must not contain U\+000A \(a line break\)/],
      ['POST', '/incidents/inc-1/notes', { text: 'seen\u009b31m' }, /text: must not contain U\+009B/],
      ['POST', '/incidents/inc-1/close', { rootCause: 'x', lessons: 'y\u2066z' }, /lessons: must not contain U\+2066/],
    ];
    for (const [method, path, body, message] of cases) {
      const answer = await send(method, path, body);
      assert.equal(answer.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.match(answer.message, message);
    }
    assert.deepEqual(calls, []);
  });

  test('line breaks and tabs stay allowed where text has lines (a note, a reason)', async () => {
    calls.length = 0;
    assert.equal((await send('POST', '/incidents/inc-1/notes', { text: 'first\n\tsecond' })).status, 201);
    assert.equal((await send('POST', '/clients/acme/kill', { reason: 'phishing wave\nsee incident inc-1' })).status, 200);
    assert.equal(calls.length, 2);
  });

  test('a settings version or history limit must be plain decimal digits', async () => {
    calls.length = 0;
    for (const version of ['1e3', '0x10', '%202', '2.0', '0', '-1']) {
      const answer = await send('GET', `/clients/acme/settings/versions/${version}`);
      assert.equal(answer.status, 400, version);
      assert.match(answer.message, /version: /, version);
    }
    for (const limit of ['0x10', '1e2', '']) {
      assert.equal((await send('GET', `/clients/acme/settings/history?limit=${limit}`)).status, 400, limit);
    }
    assert.deepEqual(calls, []);
    assert.equal((await send('GET', '/clients/acme/settings/versions/12')).status, 200);
    assert.equal((await send('GET', '/clients/acme/settings/history?limit=5')).status, 200);
    assert.deepEqual(calls, ['version ["acme",12]', 'history ["acme",5]']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BullhornEmulator } from '../emulators/bullhorn-emulator.ts';

/** The emulator is only worth its contract suite if it refuses what Bullhorn refuses. */

async function withEmulator(test: (emulator: BullhornEmulator) => Promise<void>): Promise<void> {
  const emulator = new BullhornEmulator();
  await emulator.start();
  try {
    await test(emulator);
  } finally {
    await emulator.stop();
  }
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function refreshGrant(emulator: BullhornEmulator, refreshToken: string) {
  const { clientId, clientSecret } = emulator.oauth;
  return postForm(`${emulator.authUrl}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, client_secret: clientSecret });
}

/** A logged-in caller: `call(method, path, body?)` against the corporation's REST API. */
async function session(emulator: BullhornEmulator) {
  const tokens = await refreshGrant(emulator, emulator.issueRefreshToken());
  const login = await fetch(`${emulator.loginUrl}?version=*&access_token=${String(tokens.body['access_token'])}`, { method: 'POST' });
  const { BhRestToken, restUrl } = (await login.json()) as { BhRestToken: string; restUrl: string };
  assert.equal(restUrl, emulator.restUrl);
  const call = async (method: string, path: string, body?: unknown, token: string | null = BhRestToken) => {
    const response = await fetch(new URL(path, restUrl), {
      method,
      headers: { ...(token === null ? {} : { BhRestToken: token }), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed = (await response.json()) as Record<string, unknown>;
    return { status: response.status, body: parsed, retryAfter: response.headers.get('retry-after') };
  };
  return { call, token: BhRestToken };
}

describe('Bullhorn emulator strictness', () => {
  it('runs the authorization-code grant: single-use code bound to its redirect URI, rotating refresh tokens', async () => {
    await withEmulator(async (emulator) => {
      const { clientId, clientSecret } = emulator.oauth;
      const redirect = emulator.oauth.redirectUris[0] as string;
      const authorize = (params: Record<string, string>) => fetch(`${emulator.authUrl}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
      assert.equal((await authorize({ client_id: 'someone-else', response_type: 'code' })).status, 400);
      assert.equal((await authorize({ client_id: clientId, response_type: 'code', redirect_uri: 'https://evil.example/cb' })).status, 400);
      const answer = await authorize({ client_id: clientId, response_type: 'code', redirect_uri: redirect, state: 'st-1' });
      assert.equal(answer.status, 302);
      const location = new URL(answer.headers.get('location') ?? '');
      assert.equal(location.searchParams.get('state'), 'st-1');
      const code = location.searchParams.get('code') ?? '';
      const exchange = { grant_type: 'authorization_code', code, client_id: clientId, client_secret: clientSecret, redirect_uri: redirect };
      assert.deepEqual((await postForm(`${emulator.authUrl}/oauth/token`, { ...exchange, client_secret: 'wrong' })).status, 401);
      const tokens = await postForm(`${emulator.authUrl}/oauth/token`, exchange);
      assert.equal(tokens.status, 200);
      assert.equal(tokens.body['expires_in'], 600);
      assert.equal((await postForm(`${emulator.authUrl}/oauth/token`, exchange)).body['error'], 'invalid_grant');
      const first = String(tokens.body['refresh_token']);
      const rotated = await refreshGrant(emulator, first);
      assert.equal(rotated.status, 200);
      assert.notEqual(rotated.body['refresh_token'], first);
      assert.equal((await refreshGrant(emulator, first)).body['error'], 'invalid_grant');
      assert.equal((await postForm(`${emulator.authUrl}/oauth/token`, { grant_type: 'password', client_id: clientId, client_secret: clientSecret })).body['error'], 'unsupported_grant_type');
      emulator.oauth.behaviour = 'deny';
      const denied = new URL((await authorize({ client_id: clientId, response_type: 'code' })).headers.get('location') ?? '');
      assert.equal(denied.searchParams.get('error'), 'access_denied');
      assert.equal(denied.searchParams.get('code'), null);
    });
  });

  it('login needs a version and a live access token; REST needs a live BhRestToken (412 / 401)', async () => {
    await withEmulator(async (emulator) => {
      const tokens = await refreshGrant(emulator, emulator.issueRefreshToken());
      const access = String(tokens.body['access_token']);
      assert.equal((await fetch(`${emulator.loginUrl}?access_token=${access}`)).status, 400);
      assert.equal((await fetch(`${emulator.loginUrl}?version=*&access_token=forged`)).status, 401);
      const { call, token } = await session(emulator);
      assert.equal((await call('GET', 'ping', undefined, null)).status, 412);
      assert.deepEqual((await call('GET', 'ping', undefined, 'forged')).body['errorMessageKey'], 'errors.authentication.invalidRestToken');
      const viaQuery = await fetch(`${emulator.restUrl}ping?BhRestToken=${token}`);
      assert.equal(viaQuery.status, 200);
      assert.equal((await fetch(`${emulator.url}/rest-services/other/ping?BhRestToken=${token}`)).status, 404);
      emulator.expireSessions();
      assert.equal((await call('GET', 'ping')).status, 401);
      emulator.expireAccessTokens();
      assert.equal((await fetch(`${emulator.loginUrl}?version=*&access_token=${access}`)).status, 401);
    });
  });

  it('refuses wrong entity names, unknown fields, malformed Lucene and where clauses, and bad paging', async () => {
    await withEmulator(async (emulator) => {
      emulator.addClientContact({ firstName: 'A', lastName: 'B', email: 'a@b.example', company: 'C' });
      const { call } = await session(emulator);
      const status = async (path: string) => (await call('GET', path)).status;
      const q = (value: string) => encodeURIComponent(value);
      assert.equal(await status(`search/ClientContact?query=${q('email:"a@b.example"')}&fields=id,clientCorporation(name)`), 200);
      assert.equal(await status(`search/clientcontact?query=${q('email:"a@b.example"')}&fields=id`), 400);
      assert.equal(await status(`search/Contact?query=${q('email:"a@b.example"')}&fields=id`), 400);
      assert.equal(await status(`search/NoteEntity?query=${q('targetEntityID:1')}&fields=id`), 400);
      for (const fields of ['id,favouriteColour', 'id,clientCorporation(revenue)', 'id,email(x)', 'id,,name', 'id,clientCorporation(name']) {
        assert.equal(await status(`search/ClientContact?query=${q('isDeleted:0')}&fields=${q(fields)}`), 400, fields);
      }
      assert.equal(await status(`search/ClientContact?query=${q('isDeleted:0')}`), 400);
      for (const query of ['email:"unterminated', '(email:"a@b.example"', 'favourite:1', 'email:', 'email:a* AND isDeleted:0', 'AND email:"x"']) {
        assert.equal(await status(`search/ClientContact?query=${q(query)}&fields=id`), 400, query);
      }
      for (const where of ["externalID=", "externalID LIKE 'x'", '1=1', "externalID='a' OR 1=1", "externalID='a'; DROP", 'personReference=3']) {
        assert.equal(await status(`query/Note?where=${q(where)}&fields=id`), 400, where);
      }
      assert.equal(await status(`query/Note?where=${q("externalID='x'")}&fields=id&count=501`), 400);
      assert.equal(await status(`query/Note?where=${q("externalID='x'")}&fields=id&orderBy=-comments2`), 400);
      assert.equal(await status('entity/ClientContact/abc?fields=id'), 400);
      assert.equal(await status('entity/ClientContact/999999?fields=id'), 404);
    });
  });

  it('refuses unknown, read-only and missing fields in bodies, and dangling associations', async () => {
    await withEmulator(async (emulator) => {
      const person = emulator.addCandidate({ firstName: 'A', lastName: 'B', email: 'a@b.example' });
      const { call } = await session(emulator);
      const note = { personReference: { id: person }, comments: 'Called.', action: 'Call' };
      assert.equal((await call('PUT', 'entity/Note', { ...note, mood: 'happy' })).status, 400);
      assert.equal((await call('PUT', 'entity/Note', { ...note, dateLastModified: 1 })).status, 400);
      assert.equal((await call('PUT', 'entity/Note', { comments: 'x' })).status, 400);
      assert.equal((await call('PUT', 'entity/Note', { ...note, personReference: { id: 424242 } })).status, 400);
      assert.equal((await call('PUT', 'entity/Note', { ...note, personReference: 5 })).status, 400);
      assert.equal((await call('PUT', 'entity/Note', { ...note, externalID: 'x'.repeat(101) })).status, 400);
      const created = await call('PUT', 'entity/Note', note);
      assert.equal(created.body['changeType'], 'INSERT');
      const noteId = created.body['changedEntityId'] as number;
      assert.equal((await call('PUT', 'entity/NoteEntity', { note: { id: noteId }, targetEntityID: person, targetEntityName: 'Candidate' })).status, 400);
      assert.equal((await call('PUT', 'entity/NoteEntity', { note: { id: noteId }, targetEntityID: person, targetEntityName: 'User' })).status, 200);
      assert.equal((await call('POST', `entity/Candidate/${person}`, { dateLastComment: 1 })).status, 400);
      assert.equal((await call('POST', `entity/Candidate/${person}`, { favouriteColour: 'red' })).status, 400);
      assert.equal((await call('POST', 'entity/Candidate/999999', { status: 'Active' })).status, 404);
      assert.equal((await call('DELETE', `entity/Note/${noteId}`)).status, 405);
      assert.equal(emulator.notes().length, 1);
      assert.equal(typeof emulator.record('Candidate', person)?.['dateLastComment'], 'number');
    });
  });

  it('injects 429 with Retry-After on the REST API', async () => {
    await withEmulator(async (emulator) => {
      const { call } = await session(emulator);
      emulator.throttle(1, 9);
      const throttled = await call('GET', 'ping');
      assert.equal(throttled.status, 429);
      assert.equal(throttled.retryAfter, '9');
      assert.equal((await call('GET', 'ping')).status, 200);
    });
  });
});

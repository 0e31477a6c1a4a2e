import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MicrosoftOAuthConsent } from '../../../orchestrator/src/adapters/oauth/microsoft-oauth-consent.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';

/** The identity platform emulator is as strict about scopes as the real one, so the adapter cannot drift from it. */
describe('scopes at the Microsoft authorization endpoint', () => {
  const graph = new GraphEmulator();
  before(() => graph.start());
  after(() => graph.stop());

  async function redirectOf(scopes: string[]): Promise<URLSearchParams> {
    const consent = new MicrosoftOAuthConsent({
      clientId: graph.clientId,
      clientSecret: graph.clientSecret,
      tenant: graph.tenant,
      authorityHost: graph.baseUrl,
    });
    const request = await consent.createAuthorizationRequest({ scopes, redirectUri: 'http://127.0.0.1:9/oauth/callback' });
    const answer = await fetch(request.url, { redirect: 'manual' });
    assert.equal(answer.status, 302);
    return new URL(answer.headers.get('location') ?? '').searchParams;
  }

  test('a scope that names no Graph permission is refused as invalid_scope', async () => {
    const query = await redirectOf(['Mail.Read', 'Mail.ReadEverything', 'offline_access']);
    assert.equal(query.get('error'), 'invalid_scope');
    assert.match(query.get('error_description') ?? '', /AADSTS70011.*Mail\.ReadEverything/);
  });

  test('the mail scopes with the sign-in scopes the adapter adds are accepted', async () => {
    const query = await redirectOf(['Mail.ReadWrite', 'Mail.Send', 'Calendars.ReadBasic', 'offline_access']);
    assert.equal(query.get('error'), null);
    assert.ok((query.get('code') ?? '') !== '');
    assert.deepEqual(graph.authorizationCodes.authorizations.at(-1)?.scopes, [
      'Mail.ReadWrite',
      'Mail.Send',
      'Calendars.ReadBasic',
      'offline_access',
      'openid',
      'email',
    ]);
  });
});

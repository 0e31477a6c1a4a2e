import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { GoogleOAuthConsent } from '../../../orchestrator/src/adapters/oauth/google-oauth-consent.ts';
import { MicrosoftOAuthConsent, normaliseGraphScope } from '../../../orchestrator/src/adapters/oauth/microsoft-oauth-consent.ts';
import { codeChallengeS256, createCodeVerifier, createState } from '../../../orchestrator/src/adapters/oauth/pkce.ts';
import { interpretRedirect, statesMatch } from '../../../orchestrator/src/adapters/oauth/redirect-callback.ts';
import { tokenEndpointError } from '../../../orchestrator/src/adapters/oauth/token-errors.ts';
import {
  compareScopes,
  consentScopesFromConfig,
  providerSecretValue,
} from '../../../orchestrator/src/services/connect-mailbox.ts';

const G = 'https://www.googleapis.com/auth/';
const config = (provider: string, permissions: string) => `client: acme\nprovider: ${provider}\npermissions: ${permissions}\n`;

describe('PKCE and state', () => {
  test('the S256 challenge matches the RFC 7636 appendix B example', () => {
    assert.equal(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  test('verifiers and states are fresh, 43 unreserved characters', () => {
    const values = [createCodeVerifier(), createCodeVerifier(), createState(), createState()];
    for (const value of values) assert.match(value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(new Set(values).size, values.length);
  });
});

describe('reading the redirect', () => {
  const state = 'expected-state-value';
  const read = (query: string) => interpretRedirect(new URLSearchParams(query), state);

  test('a code with the right state is accepted', () => {
    assert.deepEqual(read(`code=abc&state=${state}`), { kind: 'code', code: 'abc' });
  });

  test('a wrong, missing or prefixed state is a mismatch, whatever else the redirect carries', () => {
    assert.deepEqual(read('code=abc&state=other'), { kind: 'state-mismatch' });
    assert.deepEqual(read('code=abc'), { kind: 'state-mismatch' });
    assert.deepEqual(read(`code=abc&state=${state}x`), { kind: 'state-mismatch' });
    assert.deepEqual(read('error=access_denied&state=forged'), { kind: 'state-mismatch' });
  });

  test('access_denied with the right state is a denial with its description', () => {
    assert.deepEqual(read(`error=access_denied&error_description=user%20said%20no&state=${state}`), {
      kind: 'denied',
      error: 'access_denied',
      description: 'user said no',
    });
  });

  test('repeated parameters, an empty code and oversized values are malformed', () => {
    assert.equal(read(`code=a&code=b&state=${state}`).kind, 'malformed');
    assert.equal(read(`state=${state}`).kind, 'malformed');
    assert.equal(read(`code=${'x'.repeat(5000)}&state=${state}`).kind, 'malformed');
  });

  test('statesMatch compares exactly', () => {
    assert.equal(statesMatch('abc', 'abc'), true);
    assert.equal(statesMatch('abc', 'abd'), false);
    assert.equal(statesMatch('', 'abc'), false);
  });
});

describe('scopes from the client config', () => {
  test('gmail without mail.send asks for no send scope', () => {
    const scopes = consentScopesFromConfig({ provider: 'gmail', configYaml: config('gmail', "{ 'mail.read': true, 'mail.draft': true }") }, 'gmail');
    assert.deepEqual(scopes, [`${G}gmail.compose`, `${G}gmail.readonly`]);
  });

  test('gmail with mail.send asks for gmail.send', () => {
    const scopes = consentScopesFromConfig({ provider: 'gmail', configYaml: config('gmail', "{ 'mail.read': true, 'mail.send': true }") }, 'gmail');
    assert.ok(scopes.includes(`${G}gmail.send`));
  });

  test('outlook asks for offline_access and Mail.Send only when sending is on', () => {
    const off = consentScopesFromConfig({ provider: 'outlook', configYaml: config('outlook', "{ 'mail.read': true, 'mail.draft': true }") }, 'outlook');
    assert.deepEqual(off, ['Mail.ReadWrite', 'offline_access']);
    const on = consentScopesFromConfig({ provider: 'outlook', configYaml: config('outlook', "{ 'mail.read': true, 'mail.send': true }") }, 'outlook');
    assert.ok(on.includes('Mail.Send'));
  });

  test('a provider other than the config’s is refused naming the right one', () => {
    assert.throws(
      () => consentScopesFromConfig({ provider: 'gmail', configYaml: config('gmail', "{ 'mail.read': true }") }, 'outlook'),
      (error: unknown) => isFleetError(error) && error.code === 'invalid_input' && /--provider gmail/.test(error.message),
    );
  });

  test('a config with no mail capability has nothing to consent to', () => {
    assert.throws(
      () => consentScopesFromConfig({ provider: 'outlook', configYaml: config('outlook', "{ 'crm.read': true }") }, 'outlook'),
      (error: unknown) => isFleetError(error) && error.code === 'invalid_input',
    );
  });
});

describe('granted scopes', () => {
  test('missing and extra scopes are reported, case-insensitively', () => {
    assert.deepEqual(compareScopes(['Mail.ReadWrite', 'offline_access'], ['mail.readwrite', 'offline_access', 'User.Read']), {
      missing: [],
      extra: ['User.Read'],
    });
    assert.deepEqual(compareScopes([`${G}gmail.readonly`, `${G}gmail.compose`], [`${G}gmail.readonly`]), {
      missing: [`${G}gmail.compose`],
      extra: [],
    });
  });

  test('Graph resource-qualified scopes are normalised to the bare names we request', () => {
    assert.equal(normaliseGraphScope('https://graph.microsoft.com/Mail.Read'), 'Mail.Read');
    assert.equal(normaliseGraphScope('openid'), 'openid');
  });
});

describe('the stored secret', () => {
  const request = (provider: 'gmail' | 'outlook') => ({
    clientId: 'acme' as never,
    provider,
    oauthClient: { clientId: 'cid', clientSecret: 'csecret', tenant: 'contoso.example' },
    timeoutMs: 1000,
  });

  test('has the shape the agent reads; the tenant only for outlook', () => {
    assert.deepEqual(JSON.parse(providerSecretValue(request('outlook'), 'rt')), {
      client_id: 'cid',
      client_secret: 'csecret',
      refresh_token: 'rt',
      tenant: 'contoso.example',
    });
    assert.deepEqual(JSON.parse(providerSecretValue(request('gmail'), 'rt')), { client_id: 'cid', client_secret: 'csecret', refresh_token: 'rt' });
  });
});

describe('authorization URLs', () => {
  test('Google: offline access, forced consent, PKCE S256, loopback redirect and the exact scopes', async () => {
    const consent = new GoogleOAuthConsent({ clientId: 'cid.apps', clientSecret: 's', authorizationUrl: 'http://127.0.0.1:9/o/oauth2/v2/auth' });
    const request = await consent.createAuthorizationRequest({ scopes: [`${G}gmail.readonly`], redirectUri: 'http://127.0.0.1:5555/oauth/callback' });
    const url = new URL(request.url);
    assert.equal(url.origin + url.pathname, 'http://127.0.0.1:9/o/oauth2/v2/auth');
    const q = url.searchParams;
    assert.equal(q.get('access_type'), 'offline');
    assert.equal(q.get('prompt'), 'consent');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'cid.apps');
    assert.equal(q.get('redirect_uri'), 'http://127.0.0.1:5555/oauth/callback');
    assert.equal(q.get('scope'), `${G}gmail.readonly`);
    assert.equal(q.get('state'), request.state);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('code_challenge'), codeChallengeS256(request.codeVerifier));
    assert.equal(q.get('client_secret'), null);
  });

  test('Microsoft: tenant authority, PKCE S256, query response mode, no secret in the URL', async () => {
    const consent = new MicrosoftOAuthConsent({ clientId: 'app', clientSecret: 'very-secret', tenant: 'contoso.example' });
    const request = await consent.createAuthorizationRequest({ scopes: ['Mail.Read', 'offline_access'], redirectUri: 'http://127.0.0.1:5555/oauth/callback' });
    const url = new URL(request.url);
    assert.equal(`${url.origin}${url.pathname}`, 'https://login.microsoftonline.com/contoso.example/oauth2/v2.0/authorize');
    assert.equal(url.searchParams.get('scope'), 'Mail.Read offline_access openid email');
    assert.match(url.searchParams.get('nonce') ?? '', /^[A-Za-z0-9_-]{20,}$/, 'a nonce the ID token must echo');
    assert.equal(url.searchParams.get('code_challenge'), codeChallengeS256(request.codeVerifier));
    assert.equal(url.searchParams.get('state'), request.state);
    assert.ok(!request.url.includes('very-secret'));
  });

  test('a tenant with URL syntax in it is refused', () => {
    assert.throws(() => new MicrosoftOAuthConsent({ clientId: 'a', clientSecret: 'b', tenant: '../evil?x=' }), (error: unknown) => isFleetError(error) && error.code === 'invalid_input');
  });
});

describe('token endpoint errors', () => {
  test('invalid_client and invalid_grant are unauthorized; 5xx is retryable unavailable', () => {
    assert.equal(tokenEndpointError('Google', 401, { error: 'invalid_client' }).code, 'unauthorized');
    assert.equal(tokenEndpointError('Microsoft', 400, { error: 'invalid_grant', error_description: 'AADSTS54005: redeemed' }).code, 'unauthorized');
    const unavailable = tokenEndpointError('Google', 503, null);
    assert.equal(unavailable.code, 'unavailable');
    assert.equal(unavailable.retryable, true);
  });
});

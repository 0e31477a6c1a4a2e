import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { consentingMicrosoftAccount } from '../../../orchestrator/src/adapters/oauth/microsoft-id-token.ts';
import { createCodeVerifier, nonceForVerifier } from '../../../orchestrator/src/adapters/oauth/pkce.ts';

const HOST = 'https://login.microsoftonline.com';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const tid = randomUUID();
const nonce = nonceForVerifier(createCodeVerifier());

/** An unsigned JWT with these claims over a valid base (the signature is not what is checked). */
function idToken(overrides: Record<string, unknown> = {}): string {
  const claims = {
    ver: '2.0',
    iss: `${HOST}/${tid}/v2.0`,
    aud: 'app-id',
    tid,
    exp: NOW / 1000 + 3600,
    nbf: NOW / 1000 - 10,
    nonce,
    email: 'Agent@Acme.example',
    ...overrides,
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ typ: 'JWT', alg: 'RS256' })}.${encode(claims)}.${encode('signature')}`;
}

const expected = { clientId: 'app-id', authorityHost: HOST, tenant: 'common', nonce, now: NOW };

const refused = (error: unknown) => {
  assert.ok(isFleetError(error), `expected a FleetError, got ${String(error)}`);
  assert.equal(error.code, 'forbidden');
  assert.match(error.message, /nothing was stored/);
  return true;
};

describe("the consenting account from Microsoft's ID token", () => {
  test('a valid token names the account by its email claim, lower-cased', () => {
    assert.equal(consentingMicrosoftAccount(idToken(), expected), 'agent@acme.example');
    assert.equal(consentingMicrosoftAccount(idToken(), { ...expected, tenant: tid.toUpperCase() }), 'agent@acme.example');
  });

  const hostile: Record<string, unknown> = {
    'no token': undefined,
    'not a JWT': 'opaque',
    'a payload that is no JSON object': `e30.${Buffer.from('[1]').toString('base64url')}.c2ln`,
    'another audience': idToken({ aud: 'other-app' }),
    'another issuer': idToken({ iss: `https://attacker.example/${tid}/v2.0` }),
    'no tenant id': idToken({ tid: undefined }),
    'another tenant than the GUID asked for': idToken({ tid: randomUUID() }),
    'an expiry in the past': idToken({ exp: NOW / 1000 - 3600 }),
    'a start in the future': idToken({ nbf: NOW / 1000 + 3600 }),
    'another request’s nonce': idToken({ nonce: nonceForVerifier(createCodeVerifier()) }),
    'no nonce': idToken({ nonce: undefined }),
    'no email claim (preferred_username is mutable and not asked for)': idToken({ email: undefined, preferred_username: 'agent@acme.example' }),
    'an email claim that is no address': idToken({ email: 'agent@acme.example\nBcc: x@y.example' }),
    oversized: idToken({ padding: 'x'.repeat(20_000) }),
  };
  for (const [name, token] of Object.entries(hostile)) {
    test(`a token with ${name} is refused`, () => {
      const tenant = name.startsWith('another tenant') ? tid : 'common';
      assert.throws(() => consentingMicrosoftAccount(token, { ...expected, tenant }), refused);
    });
  }
});

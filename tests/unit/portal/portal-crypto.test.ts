import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { derivePortalKeys } from '../../../orchestrator/src/portal/crypto/portal-keys.ts';
import { seal, unseal } from '../../../orchestrator/src/portal/crypto/sealed-box.ts';
import { signApprovalLink, verifyApprovalLink } from '../../../orchestrator/src/portal/crypto/signed-link.ts';
import { tokenHash } from '../../../orchestrator/src/portal/crypto/tokens.ts';

const key = randomBytes(32);
const now = new Date('2026-03-01T10:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);

void test('a sealed value opens only with its key and purpose, and not once changed', () => {
  const sealed = seal(key, 'JBSWY3DPEHPK3PXPJBSWY3DP', 'totp:acme:admin@acme.com');
  assert.ok(!sealed.includes('JBSWY3DP'));
  assert.notEqual(seal(key, 'same', 'p'), seal(key, 'same', 'p'), 'a fresh nonce each time');
  assert.equal(unseal(key, sealed, 'totp:acme:admin@acme.com').toString(), 'JBSWY3DPEHPK3PXPJBSWY3DP');
  assert.throws(() => unseal(key, sealed, 'totp:beta:admin@acme.com'), /does not open/);
  assert.throws(() => unseal(randomBytes(32), sealed, 'totp:acme:admin@acme.com'), /does not open/);
  const raw = Buffer.from(sealed.slice(4), 'base64url');
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
  assert.throws(
    () => unseal(key, `ps1.${raw.toString('base64url')}`, 'totp:acme:admin@acme.com'),
    /does not open/,
  );
  assert.throws(() => unseal(key, 'nonsense', 'x'), /malformed/);
});

void test('the portal keys are distinct and stable for one master key', () => {
  const master = randomBytes(32);
  const keys = derivePortalKeys(master);
  const all = [keys.credentials, keys.caKey, keys.links, keys.csrf].map((k) => k.toString('hex'));
  assert.equal(new Set(all).size, 4);
  assert.deepEqual(derivePortalKeys(master), keys);
  assert.notDeepEqual(derivePortalKeys(randomBytes(32)), keys);
});

void test('tokens are kept as sha256 hex', () => {
  assert.equal(tokenHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

void test('a signed link names its client and approval until it expires; forged, tampered and malformed ones are refused', () => {
  const token = signApprovalLink(key, { clientId: 'acme', approvalId: 'ap-1', expiresAt: later(60_000) });
  const checked = verifyApprovalLink(key, token, now);
  assert.ok(checked.ok);
  assert.equal(checked.link.clientId, 'acme');
  assert.equal(checked.link.approvalId, 'ap-1');
  assert.match(checked.nonceHash, /^[0-9a-f]{64}$/);
  assert.notEqual(
    signApprovalLink(key, { clientId: 'acme', approvalId: 'ap-1', expiresAt: later(60_000) }),
    token,
    'a fresh nonce per link',
  );
  assert.deepEqual(verifyApprovalLink(key, token, later(60_000)), { ok: false, reason: 'expired' });
  assert.deepEqual(verifyApprovalLink(randomBytes(32), token, now), { ok: false, reason: 'forged' });
  const [prefix, payload, signature] = token.split('.') as [string, string, string];
  const otherClient = Buffer.from(
    Buffer.from(payload, 'base64url').toString().replace('"acme"', '"beta"'),
  ).toString('base64url');
  assert.deepEqual(verifyApprovalLink(key, `${prefix}.${otherClient}.${signature}`, now), {
    ok: false,
    reason: 'forged',
  });
  for (const bad of ['', 'l1.a', 'x1.a.b', `${token}.x`, 'l1.' + 'a'.repeat(700) + '.b']) {
    assert.equal(verifyApprovalLink(key, bad, now).ok, false, bad.slice(0, 20));
  }
});

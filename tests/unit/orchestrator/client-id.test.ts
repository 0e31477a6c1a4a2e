import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIENT_ID_RULE, clientLabels, parseClientId, resourceNames } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';

function refused(raw: unknown): string {
  try {
    parseClientId(raw);
  } catch (error) {
    assert.ok(isFleetError(error) && error.code === 'invalid_input', `${JSON.stringify(raw)}: ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  assert.fail(`${JSON.stringify(raw)} was accepted`);
}

void test('valid DNS-1123 labels of 2 to 32 characters are accepted unchanged', () => {
  for (const id of ['ab', 'acme', 'acme-corp', 'a1', 'x9-y8-z7', `a${'b'.repeat(31)}`]) assert.equal(parseClientId(id), id);
});

void test('an empty or missing id is refused, saying what is allowed', () => {
  for (const raw of ['', undefined, null]) assert.match(refused(raw), /missing client id: a client id is 2-32 characters/);
});

void test('non-string ids are refused', () => {
  for (const raw of [42, true, {}, ['acme'], Symbol.for('acme')]) refused(raw);
});

void test('an id longer than 32 characters is refused and shown truncated', () => {
  refused(`a${'b'.repeat(32)}`);
  const message = refused('a'.repeat(5000));
  assert.ok(message.length < 300, 'a huge input is not echoed back whole');
  assert.ok(message.includes('…'));
});

void test('upper case, spaces, path traversal and shell metacharacters are refused', () => {
  const bad = ['Acme', 'ACME', 'acme ', ' acme', 'ac me', 'ac\tme', 'ac\nme', '../etc', '..', 'a/b', 'a\\b', 'acme/../x', '.acme'];
  const shell = ['a;b', 'a|b', 'a&b', 'a$b', '$(id)', '`id`', 'a>b', 'a<b', "a'b", 'a"b', 'a*', 'a?', 'a{b}', 'a!b', 'a#b', 'a~', 'a\0b'];
  for (const raw of [...bad, ...shell]) assert.match(refused(raw), new RegExp(CLIENT_ID_RULE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

void test('unicode look-alikes of valid ids are refused', () => {
  // Cyrillic а/с/е/о, Greek ο, full-width a, a zero-width space, a combining accent, a Turkish dotless ı.
  for (const raw of ['\u0430cme', 'a\u0441me', 'acm\u0435', 'f\u03bfo', '\uff41cme', 'ac\u200bme', 'acme\u0301', 'l\u0131nk', 'café']) refused(raw);
});

void test('ids must start with a letter and not end with a hyphen, and contain no double hyphen', () => {
  for (const raw of ['a', '1acme', '-acme', 'acme-', 'a--b', 'xn--acme', 'ac_me', 'ac.me']) refused(raw);
});

void test('reserved names are refused with a reason of their own', () => {
  for (const raw of ['admin', 'all', 'default', 'docker', 'fleet', 'host', 'localhost', 'none', 'bridge', 'root', 'system', 'vault', 'prometheus', 'kube-system', 'unknown']) {
    assert.match(refused(raw), /is reserved/);
  }
});

void test('an id ending like the helper containers of another client is reserved, naming that client', () => {
  // fleet-acme-reader is acme's volume reader; fleet-acme-helper-<8 hex> one of its volume helpers.
  assert.match(refused('acme-reader'), /^client id "acme-reader" is reserved: it ends in "-reader", which names the helper containers of client "acme"/);
  assert.match(refused('acme-helper-0a1b2c3d'), /is reserved: it ends in "-helper-0a1b2c3d"/);
  for (const id of ['reader', 'acme-readers', 'mind-reader1', 'acme-helper', 'acme-helper-x', 'acme-helpers-0a1b2c3d']) assert.equal(parseClientId(id), id);
});

void test('resource names derive from the id and carry the fleet prefix', () => {
  const id = parseClientId('acme');
  assert.deepEqual(resourceNames(id), {
    container: 'fleet-acme',
    volume: 'fleet-acme-data',
    network: 'fleet-acme',
    vaultPath: 'fleet/acme/',
    vaultPolicy: 'fleet-acme',
    helmRelease: 'fleet-acme',
    namespace: 'fleet-acme',
  });
  assert.deepEqual(clientLabels(id), { 'io.agentfleet.client': 'acme', 'io.agentfleet.managed': 'true' });
});

void test('distinct ids never share a resource name', () => {
  const ids = ['acme', 'acme-data', 'acme-d', 'ac', 'acm'].map(parseClientId);
  for (const key of ['container', 'volume', 'network', 'vaultPath'] as const) {
    const names = ids.map((id) => resourceNames(id)[key]);
    assert.equal(new Set(names).size, names.length, key);
  }
});

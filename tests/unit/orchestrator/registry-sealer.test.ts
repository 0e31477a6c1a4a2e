import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';

void test('a client field is sealed under the registry key, bound to its client and column, and opens whole', () => {
  const master = randomBytes(32);
  const sealer = registrySealer(master);
  const config = 'client: acme\nblock_list: [rival@example.com]\n';
  const sealed = sealer.seal('acme', 'config_yaml', config);
  assert.ok(sealer.isSealed(sealed) && !sealed.includes('rival'));
  assert.notEqual(sealer.seal('acme', 'config_yaml', config), sealed, 'a fresh nonce each time');
  assert.equal(sealer.open('acme', 'config_yaml', sealed), config);
  assert.equal(registrySealer(master).open('acme', 'config_yaml', sealed), config, 'the same master key opens it after a restart');

  const refused = (open: () => string) => assert.throws(open, { code: 'integrity' });
  refused(() => sealer.open('beta', 'config_yaml', sealed));
  refused(() => sealer.open('acme', 'admins', sealed));
  refused(() => registrySealer(randomBytes(32)).open('acme', 'config_yaml', sealed));
  refused(() => sealer.open('acme', 'config_yaml', `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`));
  assert.equal(sealer.open('acme', 'config_yaml', config), config, 'a value written before sealing reads as it is (and is sealed at the next open)');
});

void test("an ops-log entry's fields are sealed together, bound to the entry's sequence number", () => {
  const sealer = registrySealer(randomBytes(32));
  const fields = { actor: 'client-admin:jane@acme.example', reason: 'asked by jane', details: { blockList: '+rival@example.com' } };
  const sealed = sealer.sealOpsLogFields(7, fields);
  assert.ok(sealer.isSealed(sealed));
  assert.doesNotMatch(sealed, /jane|rival/);
  assert.deepEqual(sealer.openOpsLogFields(7, sealed), fields);
  assert.deepEqual(sealer.openOpsLogFields(7, sealer.sealOpsLogFields(7, { actor: 'ops', reason: null, details: {} })), { actor: 'ops', reason: null, details: {} });

  const refused = (open: () => unknown) => assert.throws(open, { code: 'integrity' });
  refused(() => sealer.openOpsLogFields(8, sealed));
  refused(() => sealer.openOpsLogFields(7, sealer.seal('7', 'config_yaml', JSON.stringify(fields))));
  refused(() => sealer.open('7', 'config_yaml', sealed));
});

void test('an address seals to the same value each time (rows are found by it), opens whole, and shows nothing of itself', () => {
  const master = randomBytes(32);
  const sealer = registrySealer(master);
  const sealed = sealer.sealAddress('jane@acme.example');
  assert.ok(sealer.isSealedAddress(sealed));
  assert.doesNotMatch(sealed, /jane|acme/);
  assert.equal(sealer.sealAddress('jane@acme.example'), sealed, 'deterministic');
  assert.equal(registrySealer(master).sealAddress('jane@acme.example'), sealed, 'and after a restart');
  assert.notEqual(sealer.sealAddress('john@acme.example'), sealed);
  assert.notEqual(registrySealer(randomBytes(32)).sealAddress('jane@acme.example'), sealed, 'another fleet, another value');
  assert.equal(sealer.openAddress(sealed), 'jane@acme.example');
  assert.equal(sealer.openAddress('jane@acme.example'), 'jane@acme.example', 'written before sealing: as it is');
  assert.throws(() => registrySealer(randomBytes(32)).openAddress(sealed), { code: 'integrity' });

  const key = sealer.lookupKey('totp:jane@acme.example');
  assert.equal(sealer.lookupKey('totp:jane@acme.example'), key);
  assert.doesNotMatch(key, /jane/);
  assert.notEqual(key, sealer.lookupKey('totp:john@acme.example'));
});

void test("a team member's address is sealed bound to the member's name, afresh each time, and opens whole", () => {
  const master = randomBytes(32);
  const sealer = registrySealer(master);
  const sealed = sealer.sealMemberEmail('jake', 'jake@agency.example');
  assert.ok(sealer.isSealed(sealed));
  assert.doesNotMatch(sealed, /jake|agency/);
  assert.notEqual(sealer.sealMemberEmail('jake', 'jake@agency.example'), sealed, 'a fresh nonce each time: nothing looks members up by address');
  assert.equal(sealer.openMemberEmail('jake', sealed), 'jake@agency.example');
  assert.equal(registrySealer(master).openMemberEmail('jake', sealed), 'jake@agency.example', 'and after a restart');
  assert.equal(sealer.openMemberEmail('jake', 'jake@agency.example'), 'jake@agency.example', 'written before sealing: as it is');

  const refused = (open: () => string) => assert.throws(open, { code: 'integrity' });
  refused(() => sealer.openMemberEmail('mia', sealed));
  refused(() => registrySealer(randomBytes(32)).openMemberEmail('jake', sealed));
  refused(() => sealer.open('jake', 'config_yaml', sealed));
});

void test('an incident field opens only for its incident and column; one written before sealing reads as it is', () => {
  const sealer = registrySealer(randomBytes(32));
  const sealed = sealer.sealIncidentField('INC-1', 'summary', "jane's payroll mail forwarded");
  assert.ok(sealer.isSealed(sealed));
  assert.equal(sealer.openIncidentField('INC-1', 'summary', sealed), "jane's payroll mail forwarded");
  assert.equal(sealer.openIncidentField('INC-1', 'summary', 'plain summary'), 'plain summary');
  assert.throws(() => sealer.openIncidentField('INC-2', 'summary', sealed), { code: 'integrity' });
  assert.throws(() => sealer.openIncidentField('INC-1', 'lessons', sealed), { code: 'integrity' });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { clientFieldSealer } from '../../../orchestrator/src/adapters/sql/client-field-sealer.ts';

void test('a client field is sealed under the registry key, bound to its client and column, and opens whole', () => {
  const master = randomBytes(32);
  const sealer = clientFieldSealer(master);
  const config = 'client: acme\nblock_list: [rival@example.com]\n';
  const sealed = sealer.seal('acme', 'config_yaml', config);
  assert.ok(sealer.isSealed(sealed) && !sealed.includes('rival'));
  assert.notEqual(sealer.seal('acme', 'config_yaml', config), sealed, 'a fresh nonce each time');
  assert.equal(sealer.open('acme', 'config_yaml', sealed), config);
  assert.equal(clientFieldSealer(master).open('acme', 'config_yaml', sealed), config, 'the same master key opens it after a restart');

  const refused = (open: () => string) => assert.throws(open, { code: 'integrity' });
  refused(() => sealer.open('beta', 'config_yaml', sealed));
  refused(() => sealer.open('acme', 'admins', sealed));
  refused(() => clientFieldSealer(randomBytes(32)).open('acme', 'config_yaml', sealed));
  refused(() => sealer.open('acme', 'config_yaml', `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`));
  assert.equal(sealer.open('acme', 'config_yaml', config), config, 'a value written before sealing reads as it is (and is sealed at the next open)');
});

// Addresses in a client config (the mailbox, admins, known contacts, the block list) follow the one
// address rule (email-address.ts): a plain ASCII `local@domain`, compared lower-cased. Lower-casing came
// first, so a non-ASCII letter whose lower case is ASCII (the Kelvin sign U+212A becomes "k") passed as
// the ASCII address it is not: `\u212Aevin@rival.example` was accepted, and compared equal to
// kevin@rival.example, while a mail server that takes UTF-8 addresses delivers it to another mailbox.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isEmailAddress, normaliseAddress } from '@agent-fleet/kernel/email-address';
import { parseClientConfigYaml } from '../../../kernel/src/domain/client-config-yaml.ts';

const KELVIN = '\u212A';

describe('client config addresses', () => {
  test('an address with a letter outside ASCII is refused, even one whose lower case is ASCII', () => {
    for (const raw of [`${KELVIN}evin@rival.example`, `kevin@${KELVIN}rival.example`, 'k\u00e9vin@rival.example']) {
      assert.equal(normaliseAddress(raw), undefined, raw);
      assert.equal(isEmailAddress(raw), false, raw);
    }
    assert.throws(
      () => parseClientConfigYaml(`client: acme\nknownContacts: ["${KELVIN}evin@rival.example"]\n`),
      /knownContacts\.0: must be an email address/,
    );
    assert.throws(() => parseClientConfigYaml(`client: acme\nblockList: ["${KELVIN}evin@rival.example"]\n`), /blockList\.0/);
  });

  test('upper case ASCII is still the same address, lower-cased', () => {
    assert.equal(normaliseAddress('Kevin@Rival.Example'), 'kevin@rival.example');
    const config = parseClientConfigYaml('client: acme\nadmins: ["Ops@Acme.Example"]\n');
    assert.deepEqual(config.admins, ['ops@acme.example']);
  });

  test('a domain under an internationalised top-level domain (xn--…) is an address like any other', () => {
    assert.equal(normaliseAddress('ops@acme.xn--p1ai'), 'ops@acme.xn--p1ai');
    const config = parseClientConfigYaml('client: acme\nmailbox: ops@acme.xn--p1ai\nblockList: ["*.acme.xn--p1ai"]\n');
    assert.equal(config.mailbox, 'ops@acme.xn--p1ai');
    assert.deepEqual(config.blockList, ['*.acme.xn--p1ai']);
    for (const raw of ['ops@acme.xn--', 'ops@acme.xn--p1ai-', 'ops@acme.xn-p1ai', 'ops@acme.123']) assert.equal(normaliseAddress(raw), undefined, raw);
  });

  test('a block-list entry written *@domain blocks the domain, not a mailbox named "*"', () => {
    const config = parseClientConfigYaml('client: acme\nblockList: ["*@Rival.example", "*@*.other.example"]\n');
    assert.deepEqual(config.blockList, ['rival.example', '*.other.example']);
  });
});

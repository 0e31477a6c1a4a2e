import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAIN_HEAD_RULE, bridgeInputRules, chainUpdateScript } from '../../../orchestrator/src/domain/host-input-rules.ts';
import { hostEndpointsOf } from '../../../orchestrator/src/compose-host-firewall.ts';

const listing = (...rules: string[]) => ['-N AGENT-FLEET-INPUT', ...rules].join('\n') + '\n';
const acme = { bridge: 'br-0123456789ab', endpoints: [{ address: '10.213.0.1', port: 8201 }, { address: '10.213.0.1', port: 7402 }] };
const acmeRules = [
  '-A AGENT-FLEET-INPUT -d 10.213.0.1/32 -i br-0123456789ab -p tcp -m multiport --dports 7402,8201 -j RETURN',
  '-A AGENT-FLEET-INPUT -i br-0123456789ab -j DROP',
];

void test("a bridge's rules: its gateway's listener ports pass on to the rest of INPUT, anything else from it is dropped", () => {
  assert.deepEqual(bridgeInputRules(acme), acmeRules);
  assert.deepEqual(bridgeInputRules({ bridge: 'br-x', endpoints: [] }), ['-A AGENT-FLEET-INPUT -i br-x -j DROP'], 'no listener: nothing passes');
  assert.deepEqual(
    bridgeInputRules({ bridge: 'br-x', endpoints: [{ address: '10.0.0.1', port: 1 }, { address: '192.168.7.20', port: 8200 }, { address: '10.0.0.1', port: 1 }] }),
    [
      '-A AGENT-FLEET-INPUT -d 10.0.0.1/32 -i br-x -p tcp -m multiport --dports 1 -j RETURN',
      '-A AGENT-FLEET-INPUT -d 192.168.7.20/32 -i br-x -p tcp -m multiport --dports 8200 -j RETURN',
      '-A AGENT-FLEET-INPUT -i br-x -j DROP',
    ],
  );
});

void test('what cannot be an interface, an IPv4 address or a port is refused, never written into a rule', () => {
  for (const bridge of ['', 'br-+', 'br-0123456789abc', 'br x', 'br-a\n-A INPUT -j ACCEPT']) {
    assert.throws(() => bridgeInputRules({ bridge, endpoints: [] }), /is not an interface name/, JSON.stringify(bridge));
  }
  for (const address of ['10.0.0.256', '10.0.0', '::1', '10.0.0.1/8', '10.0.0.1 -j ACCEPT']) {
    assert.throws(() => bridgeInputRules({ bridge: 'br-x', endpoints: [{ address, port: 1 }] }), /is not an IPv4 address/, address);
  }
  for (const port of [0, 65_536, 1.5, Number.NaN]) {
    assert.throws(() => bridgeInputRules({ bridge: 'br-x', endpoints: [{ address: '10.0.0.1', port }] }), /is not a TCP port/, String(port));
  }
  const many = Array.from({ length: 16 }, (_, index) => ({ address: '10.0.0.1', port: 1000 + index }));
  assert.throws(() => bridgeInputRules({ bridge: 'br-x', endpoints: many }), /more than 15 ports/);
});

void test('a new chain gets its head rule (answers to the host pass) first, then the bridge', () => {
  assert.equal(
    chainUpdateScript(listing(), [acme], new Set()),
    ['*filter', CHAIN_HEAD_RULE.replace('-A AGENT-FLEET-INPUT', '-I AGENT-FLEET-INPUT 1'), ...acmeRules, 'COMMIT', ''].join('\n'),
  );
});

void test('a chain already so is left alone; a changed port replaces that bridge\'s rules only', () => {
  const other = '-A AGENT-FLEET-INPUT -i br-ffffffffffff -j DROP';
  const current = listing(CHAIN_HEAD_RULE, other, ...acmeRules);
  assert.equal(chainUpdateScript(current, [acme], new Set(['br-ffffffffffff', 'br-0123456789ab'])), null);
  const moved = { ...acme, endpoints: [{ address: '10.213.0.1', port: 8201 }, { address: '10.213.0.1', port: 40_000 }] };
  assert.equal(
    chainUpdateScript(current, [moved], new Set(['br-ffffffffffff', 'br-0123456789ab'])),
    [
      '*filter',
      ...acmeRules.map((rule) => rule.replace('-A ', '-D ')),
      '-A AGENT-FLEET-INPUT -d 10.213.0.1/32 -i br-0123456789ab -p tcp -m multiport --dports 8201,40000 -j RETURN',
      '-A AGENT-FLEET-INPUT -i br-0123456789ab -j DROP',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

void test("rules of bridges gone from the host are removed; a live bridge of another fleet is kept", () => {
  const gone = '-A AGENT-FLEET-INPUT -i br-deaddeaddead -j DROP';
  const otherFleet = '-A AGENT-FLEET-INPUT -i br-ffffffffffff -j DROP';
  const script = chainUpdateScript(listing(CHAIN_HEAD_RULE, gone, otherFleet, ...acmeRules), [acme], new Set(['br-ffffffffffff', 'br-0123456789ab']));
  assert.equal(script, ['*filter', gone.replace('-A ', '-D '), 'COMMIT', ''].join('\n'));
});

void test('a head rule that is not first is moved to the top', () => {
  const script = chainUpdateScript(listing(...acmeRules, CHAIN_HEAD_RULE), [acme], new Set(['br-0123456789ab']));
  assert.equal(script, ['*filter', CHAIN_HEAD_RULE.replace('-A ', '-D '), CHAIN_HEAD_RULE.replace('-A AGENT-FLEET-INPUT', '-I AGENT-FLEET-INPUT 1'), 'COMMIT', ''].join('\n'));
});

void test('listener URLs given by an IPv4 address become host endpoints (default ports by scheme); names and absent listeners do not', () => {
  assert.deepEqual(hostEndpointsOf(['http://10.213.0.1:7402', 'https://10.213.0.1:8201', undefined, 'https://vault.example:8200', 'https://192.168.1.5']), [
    { address: '10.213.0.1', port: 7402 },
    { address: '10.213.0.1', port: 8201 },
    { address: '192.168.1.5', port: 443 },
  ]);
});

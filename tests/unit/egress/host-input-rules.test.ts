import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAIN_HEAD_RULE, bridgeInputRules, chainUpdateScript } from '../../../orchestrator/src/domain/host-input-rules.ts';

const listing = (...rules: string[]) => ['-N AGENT-FLEET-INPUT', ...rules].join('\n') + '\n';
const acme = { bridge: 'br-0123456789ab', gateway: '10.213.0.1' };
const acmeRules = [
  '-A AGENT-FLEET-INPUT -d 10.213.0.1/32 -i br-0123456789ab -p tcp -m socket -j RETURN',
  '-A AGENT-FLEET-INPUT -i br-0123456789ab -j DROP',
];

void test("a bridge's rules: what is bound to its own gateway passes on to the rest of INPUT, anything else from it is dropped", () => {
  assert.deepEqual(bridgeInputRules(acme), acmeRules);
});

void test('what cannot be an interface or an IPv4 address is refused, never written into a rule', () => {
  for (const bridge of ['', 'br-+', 'br-0123456789abc', 'br x', 'br-a\n-A INPUT -j ACCEPT']) {
    assert.throws(() => bridgeInputRules({ bridge, gateway: '10.0.0.1' }), /is not an interface name/, JSON.stringify(bridge));
  }
  for (const gateway of ['10.0.0.256', '10.0.0', '::1', '10.0.0.1/8', '10.0.0.1 -j ACCEPT']) {
    assert.throws(() => bridgeInputRules({ bridge: 'br-x', gateway }), /is not an IPv4 address/, gateway);
  }
});

void test('a new chain gets its head rule (answers to the host pass) first, then the bridge', () => {
  assert.equal(
    chainUpdateScript(listing(), [acme], new Set()),
    ['*filter', CHAIN_HEAD_RULE.replace('-A AGENT-FLEET-INPUT', '-I AGENT-FLEET-INPUT 1'), ...acmeRules, 'COMMIT', ''].join('\n'),
  );
});

void test("a chain already so is left alone; a bridge whose rules differ gets them replaced, others' untouched", () => {
  const other = '-A AGENT-FLEET-INPUT -i br-ffffffffffff -j DROP';
  const live = new Set(['br-ffffffffffff', 'br-0123456789ab']);
  const current = listing(CHAIN_HEAD_RULE, other, ...acmeRules);
  assert.equal(chainUpdateScript(current, [acme], live), null);
  const partial = listing(CHAIN_HEAD_RULE, other, acmeRules[1]!);
  assert.equal(chainUpdateScript(partial, [acme], live), ['*filter', acmeRules[1]!.replace('-A ', '-D '), ...acmeRules, 'COMMIT', ''].join('\n'));
});

void test('rules of bridges gone from the host are removed; a live bridge of another fleet is kept', () => {
  const gone = '-A AGENT-FLEET-INPUT -i br-deaddeaddead -j DROP';
  const otherFleet = '-A AGENT-FLEET-INPUT -i br-ffffffffffff -j DROP';
  const script = chainUpdateScript(listing(CHAIN_HEAD_RULE, gone, otherFleet, ...acmeRules), [acme], new Set(['br-ffffffffffff', 'br-0123456789ab']));
  assert.equal(script, ['*filter', gone.replace('-A ', '-D '), 'COMMIT', ''].join('\n'));
});

void test('a head rule that is not first is moved to the top', () => {
  const script = chainUpdateScript(listing(...acmeRules, CHAIN_HEAD_RULE), [acme], new Set(['br-0123456789ab']));
  assert.equal(script, ['*filter', CHAIN_HEAD_RULE.replace('-A ', '-D '), CHAIN_HEAD_RULE.replace('-A AGENT-FLEET-INPUT', '-I AGENT-FLEET-INPUT 1'), 'COMMIT', ''].join('\n'));
});

// The fleet's own client networks are cut from a pool the configuration keeps inside private space; an
// allow-listed name that DNS points into any such pool must lead nowhere, or an agent could reach another
// client's agent or gateway through the proxy. The two rules live apart (config and egress domain): this
// holds them together at the edges of every range a pool may take.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { formatIpv4, parseIpv4Cidr } from '../../../orchestrator/src/domain/ipv4-cidr.ts';
import { egressAddressAllowed, parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';

void test('every address of every subnet pool the configuration accepts is refused to a name rule', () => {
  const rules = [parseEgressRule('mail.example.test'), parseEgressRule('*.example.test:8443')];
  for (const pool of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '10.213.0.0/16']) {
    assert.equal(loadConfig({ FLEET_SUBNET_POOL: pool, FLEET_SUBNET_PREFIX: '28' }).subnetPool, pool);
    const cidr = parseIpv4Cidr(pool);
    const last = cidr.base + 2 ** (32 - cidr.prefix) - 1;
    for (const address of [formatIpv4(cidr.base), formatIpv4(cidr.base + 1), formatIpv4(last), `::ffff:${formatIpv4(cidr.base + 1)}`]) {
      for (const rule of rules) assert.equal(egressAddressAllowed(rule, address), false, `${pool}: ${address}`);
    }
  }
  // A pool outside private space is refused, so no client network lies where a name may lead.
  assert.throws(() => loadConfig({ FLEET_SUBNET_POOL: '8.8.0.0/16' }), /FLEET_SUBNET_POOL/);
});

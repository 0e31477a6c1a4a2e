// What one hostile agent can make the egress proxy spend that others share: the resolver's threads, the
// registry's reads. Loopback only; names are resolved by an injected resolver, never by DNS.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createEgressProxies } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import { egressAddressesOf, type EgressResolution } from '../../../orchestrator/src/adapters/egress-proxy/egress-addresses.ts';
import { createEgressProxyServer } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxy-server.ts';
import { LookupSlots } from '../../../orchestrator/src/adapters/egress-proxy/lookup-slots.ts';
import { parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';
import { connectStatus } from './connect-status.ts';

async function listening(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

describe('the egress proxy and what one agent can hold of what every client shares', () => {
  test('lookups that never answer hold at most a few of the resolver threads, even after the proxy gave up on them', async () => {
    let inFlight = 0;
    let most = 0;
    const proxy = createEgressProxyServer({
      authorize: async () => ({ allow: true, rule: { host: '*.slow.example.test', port: 443 } }),
      onOutcome: () => undefined,
      limits: { maxTunnels: 8, connectTimeoutMs: 60 },
      // A name whose DNS never answers: getaddrinfo holds its thread for the whole retry schedule.
      resolve: () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        return new Promise<string[]>(() => undefined);
      },
    });
    const port = await listening(proxy.server);
    try {
      for (let round = 0; round < 5; round += 1) {
        const statuses = await Promise.all(Array.from({ length: 6 }, (_, index) => connectStatus(port, `n${round}-${index}.slow.example.test:443`)));
        for (const status of statuses) assert.match(status, /^HTTP\/1\.1 (504|503) /);
      }
      assert.ok(most <= 2, `${most} lookups were in flight at once`);
    } finally {
      await proxy.close();
    }
  });
});

describe('lookup slots', () => {
  test('a lookup waits for a free slot and then runs; one whose caller gave up while waiting never starts', async () => {
    const slots = new LookupSlots(1);
    const started: string[] = [];
    let finishFirst: (value: string[]) => void = () => undefined;
    const first = slots.run(() => {
      started.push('first');
      return new Promise<string[]>((resolve) => (finishFirst = resolve));
    }, 1000);
    const abandoned = slots.run(async () => {
      started.push('abandoned');
      return ['192.0.2.1'];
    }, 20);
    assert.equal(await abandoned, 'no_slot', 'never started: no slot came');
    const waiting = slots.run(async () => {
      started.push('waiting');
      return ['192.0.2.2'];
    }, 1000);
    finishFirst(['192.0.2.3']);
    assert.deepEqual(await first, ['192.0.2.3']);
    assert.deepEqual(await waiting, ['192.0.2.2']);
    assert.deepEqual(started, ['first', 'waiting']);
    assert.equal(slots.busy, 0);
  });
});

describe("the host's own addresses", () => {
  // Public addresses the test host is made to hold; nothing here connects anywhere.
  const held = ['93.184.215.14', '127.0.0.1', '2a01:4f8:1:2::5', 'fe80::1%eth0'];
  const how = (answer: string[]): EgressResolution => ({
    resolve: async () => answer,
    timeoutMs: 1000,
    slots: new LookupSlots(2),
    hostAddresses: () => held,
  });

  test("a name that resolves to one of the host's public addresses is refused like a private one, in any spelling", async () => {
    const rule = parseEgressRule('*.attacker.example');
    for (const address of ['93.184.215.14', '2a01:4f8:1:2::5', '2A01:04F8:0001:0002:0000:0000:0000:0005']) {
      assert.deepEqual(await egressAddressesOf(rule, 'x.attacker.example', how([address])), { kind: 'private_address' }, address);
    }
    // The host's address is left out; another public answer of the same name still serves.
    assert.deepEqual(await egressAddressesOf(rule, 'x.attacker.example', how(['93.184.215.14', '93.184.215.15'])), { kind: 'addresses', addresses: ['93.184.215.15'] });
  });

  test('a rule that pins the address still reaches it: the operator wrote it', async () => {
    const literal = parseEgressRule('93.184.215.14:8443');
    assert.deepEqual(await egressAddressesOf(literal, '93.184.215.14', how([])), { kind: 'addresses', addresses: ['93.184.215.14'] });
    const localhost = parseEgressRule('localhost:8443');
    assert.deepEqual(await egressAddressesOf(localhost, 'localhost', how(['127.0.0.1'])), { kind: 'addresses', addresses: ['127.0.0.1'] });
  });
});

describe("the registry behind every client's proxy", () => {
  test("a burst of CONNECTs from one agent costs one registry read at a time, and each is still decided by the client's status", async () => {
    let reads = 0;
    let inFlight = 0;
    let most = 0;
    let status: 'active' | 'killed' = 'active';
    const probe = net.createServer();
    const proxyPort = await listening(probe);
    await new Promise((resolve) => probe.close(resolve));
    const proxies = createEgressProxies({
      port: proxyPort,
      extraRules: [],
      lookupClient: async (clientId) => {
        reads += 1;
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inFlight -= 1;
        return { status, configYaml: `client: ${clientId}\nprovider: gmail\n` };
      },
      refusals: new EgressRefusalLog(path.join(os.tmpdir(), `egress-resources-${process.pid}-${Date.now()}`, 'refused.jsonl'), { perClientPerWindow: 0 }),
      metrics: { serving: () => undefined, refused: () => undefined, tunnelled: () => undefined },
      logger: createSilentLogger(),
      limits: { maxTunnels: 4 },
    });
    await proxies.listen(parseClientId('acme'), { gateway: '127.0.0.1', subnet: '127.0.0.0/30' });
    try {
      const statuses = await Promise.all(Array.from({ length: 15 }, () => connectStatus(proxyPort, 'exfil.example.com:443')));
      for (const line of statuses) assert.match(line, /^HTTP\/1\.1 403 /);
      assert.equal(most, 1, 'one read at a time');
      assert.ok(reads < 15, `${reads} reads for 15 CONNECTs`);
      // A read that starts after the client was killed sees it killed.
      status = 'killed';
      const after = await connectStatus(proxyPort, 'gmail.googleapis.com:443');
      assert.match(after, /^HTTP\/1\.1 403 /);
    } finally {
      await proxies.close();
    }
  });
});

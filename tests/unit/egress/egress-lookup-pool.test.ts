// The fleet's name lookups share libuv's threads with file and crypto work: bounded fleet-wide, with each
// listener held to its share. Lookups here never touch DNS: they are promises the test answers.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createEgressProxies } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import { LookupPool } from '../../../orchestrator/src/adapters/egress-proxy/lookup-slots.ts';
import { freePort } from '../../helpers/free-port.ts';

/** Lookups that answer only when told, counting how many are in flight and the most ever at once. */
function heldLookups() {
  const running: Array<{ who: string; answer: () => void }> = [];
  const started: string[] = [];
  let most = 0;
  return {
    started,
    get running() {
      return running.length;
    },
    get most() {
      return most;
    },
    lookup(who: string) {
      return () =>
        new Promise<string[]>((resolve) => {
          started.push(who);
          const entry = { who, answer: () => resolve(['192.0.2.1']) };
          running.push(entry);
          most = Math.max(most, running.length);
        });
    },
    /** Answers the oldest running lookup of `who`. */
    answer(who: string) {
      const index = running.findIndex((entry) => entry.who === who);
      const [entry] = running.splice(index, 1);
      entry?.answer();
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A pool of four slots shared by three listeners of two each, where a floods first (five lookups: two
 * running, three queued ahead of everyone) and b asks for two; `runs` are their seven runs.
 */
async function floodedByA() {
  const pool = new LookupPool(4);
  const [a, b, c] = [pool.share(2), pool.share(2), pool.share(2)];
  const held = heldLookups();
  const aRuns = Array.from({ length: 5 }, () => a.run(held.lookup('a'), 60_000));
  const bRuns = Array.from({ length: 2 }, () => b.run(held.lookup('b'), 60_000));
  await settle();
  return { pool, a, b, c, held, runs: [...aRuns, ...bRuns] };
}

describe('the fleet-wide lookup pool', () => {
  test('holds the fleet to its total and each listener to its share; a lookup that gets no slot in time never starts', async () => {
    const { pool, a, b, c, held, runs } = await floodedByA();
    assert.equal(held.running, 4);
    assert.deepEqual([a.busy, b.busy, pool.busy], [2, 2, 4], 'a flooding listener holds its share, no more');
    assert.equal(await c.run(held.lookup('c'), 20), 'no_slot', 'the fleet is full: refused at its deadline');
    assert.equal(held.started.filter((who) => who === 'c').length, 0, 'and never started');
    assert.equal(held.most, 4);
    for (const who of ['a', 'a', 'b', 'b', 'a', 'a', 'a']) {
      held.answer(who);
      await settle();
    }
    await Promise.all(runs);
    assert.equal(pool.busy, 0);
    assert.equal(held.most, 4);
  });

  test("a freed slot goes to a waiting listener with fewer lookups in flight, not to the flooding listener's queue", async () => {
    const { c, held, runs } = await floodedByA();
    const cRun = c.run(held.lookup('c'), 60_000);
    held.answer('a');
    await settle();
    assert.equal(held.started.at(-1), 'c', "the slot a's lookup freed went to c");
    held.answer('c');
    for (const who of ['b', 'b', 'a', 'a', 'a', 'a']) {
      await settle();
      held.answer(who);
    }
    await Promise.all([...runs, cRun]);
    assert.equal(held.most, 4);
  });
});

/** Sends one CONNECT from `localAddress`; resolves with the proxy's whole answer once the socket closes. */
function answerTo(port: number, gateway: string, localAddress: string, target: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: gateway, port, localAddress });
    let heard = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (heard += chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(heard));
    socket.write(`CONNECT ${target} HTTP/1.1\r\n\r\n`);
  });
}

describe("the egress proxies' lookups across listeners", () => {
  test('agents that fill the fleet pool get no more threads; another client is refused clearly and the refusal is counted', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'egress-pool-'));
    const held = heldLookups();
    const refused: string[] = [];
    const port = await freePort();
    const refusals = new EgressRefusalLog(path.join(dir, 'refused.jsonl'));
    const proxies = createEgressProxies({
      port,
      extraRules: [],
      lookupClient: async (clientId) => ({ status: 'active', configYaml: `client: ${clientId}\nprovider: gmail\n` }),
      resolve: (host) => held.lookup(host)(),
      refusals,
      metrics: { serving: () => undefined, refused: (client) => refused.push(client), tunnelled: () => undefined },
      logger: createSilentLogger(),
      // The lookup deadline is the wait for a slot too; the held lookups never answer within it.
      limits: { connectTimeoutMs: 200 },
      fleetLookups: 3,
    });
    try {
      const gateways = ['127.0.0.1', '127.0.0.5', '127.0.0.9'];
      for (const [index, gateway] of gateways.entries()) {
        await proxies.listen(parseClientId(`client-${index}`), { gateway, subnet: `127.0.0.${index * 4}/30` });
      }
      // client-0 asks for four names (its share: two at once), client-1 for one: the fleet's three are taken.
      const flooding = [
        ...['gmail', 'oauth2', 'www', 'gmail'].map((name) => answerTo(port, '127.0.0.1', '127.0.0.2', `${name}.googleapis.com:443`)),
        answerTo(port, '127.0.0.5', '127.0.0.6', 'gmail.googleapis.com:443'),
      ];
      while (held.running < 3) await settle();
      const late = await answerTo(port, '127.0.0.9', '127.0.0.10', 'gmail.googleapis.com:443');
      assert.match(late, /^HTTP\/1\.1 503 /);
      assert.match(late, /lookup_busy/);
      assert.ok(refused.includes('client-2'), 'counted as a refusal of that client');
      assert.equal(held.most, 3, 'never more lookups in flight than the fleet allows');
      assert.equal(held.started.length, 3);
      await Promise.all(flooding);
    } finally {
      await proxies.close();
      // Queued behind the log's pending appends: the directory is removed once they are written.
      await refusals.forgetClient('nobody');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The egress proxy as the agents meet it: a real listener, real sockets, a real upstream echo server; the
// counters are read from a real prom-client registry and the refusals from the log file on disk.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createEgressProxies, type EgressProxies } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import { parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';
import { createEgressMetrics } from '../../../orchestrator/src/observability/metrics.ts';
import { freePort } from '../../helpers/free-port.ts';

const ACME = parseClientId('acme');
const BETA = parseClientId('beta');

/** Sends `request` from `localAddress` and reads until the proxy's head is complete (or the socket ends). */
function exchange(port: number, host: string, request: string, localAddress = '127.0.0.2'): Promise<{ head: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress });
    let buffer = '';
    const done = () => resolve({ head: buffer, socket });
    socket.setEncoding('latin1');
    socket.on('data', function onData(chunk: string) {
      buffer += chunk;
      if (buffer.includes('\r\n\r\n')) {
        socket.off('data', onData);
        done();
      }
    });
    socket.once('end', done);
    socket.once('error', reject);
    socket.write(request);
  });
}

describe('the egress proxy, against a real local instance', () => {
  let dir: string;
  let proxies: EgressProxies;
  let proxyPort: number;
  let echo: net.Server;
  let echoPort: number;
  let deadPort: number;
  let refusedLog: string;
  const metrics = new Registry();
  const statuses = new Map<string, ClientStatus>([['acme', 'active'], ['beta', 'active']]);
  const configs = new Map<string, string>([['acme', 'client: acme\nprovider: gmail\n'], ['beta', 'client: beta\nprovider: outlook\n']]);
  // The proxy's clock moves a second at each reading, so a record's time names the reading it was made at.
  const clockReadings: string[] = [];
  const clock = {
    now: () => {
      const now = new Date(Date.UTC(2026, 0, 1) + clockReadings.length * 1_000);
      clockReadings.push(now.toISOString());
      return now;
    },
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'egress-proxy-'));
    refusedLog = path.join(dir, 'egress', 'refused.jsonl');
    echo = net.createServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
    await new Promise((resolve) => echo.once('listening', resolve));
    echoPort = (echo.address() as AddressInfo).port;
    deadPort = await freePort();
    proxyPort = await freePort();
    const counters = createEgressMetrics(metrics);
    proxies = createEgressProxies({
      port: proxyPort,
      extraRules: [parseEgressRule(`localhost:${echoPort}`), parseEgressRule(`localhost:${deadPort}`)],
      lookupClient: async (clientId) => {
        const status = statuses.get(clientId);
        return status === undefined ? null : { status, configYaml: configs.get(clientId) ?? '' };
      },
      refusals: new EgressRefusalLog(refusedLog),
      metrics: {
        serving: (client) => counters.refused.inc({ client }, 0),
        refused: (client) => counters.refused.inc({ client }),
        tunnelled: (client) => counters.tunnels.inc({ client }),
      },
      logger: createSilentLogger(),
      limits: { maxTunnels: 2, connectTimeoutMs: 2000 },
      clock,
    });
    // Two "client networks" on loopback: acme's gateway 127.0.0.1 in 127.0.0.0/30, beta's 127.0.0.9 in 127.0.0.8/30.
    assert.equal(await proxies.listen(ACME, { gateway: '127.0.0.1', subnet: '127.0.0.0/30' }), `http://127.0.0.1:${proxyPort}`);
    assert.equal(await proxies.listen(BETA, { gateway: '127.0.0.9', subnet: '127.0.0.8/30' }), `http://127.0.0.9:${proxyPort}`);
  });
  after(async () => {
    await proxies.close();
    echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  const counter = async (name: string, client: string) => {
    const line = (await metrics.metrics()).split('\n').find((entry) => entry.startsWith(`${name}{client="${client}"}`));
    return Number(line?.split(' ')[1] ?? 0);
  };
  /** The refusal log once it holds an entry matching `wanted` (the proxy answers before the line is written). */
  const refusals = async (wanted: (entry: Record<string, unknown>) => boolean) => {
    for (let attempt = 0; ; attempt += 1) {
      const text = await readFile(refusedLog, 'utf8').catch(() => '');
      const entries = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      if (entries.some(wanted) || attempt === 50) return entries;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  test('a CONNECT to an allow-listed name opens a tunnel that carries bytes both ways, and is counted', async () => {
    const before = await counter('fleet_egress_tunnels_total', 'acme');
    const { head, socket } = await exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${echoPort} HTTP/1.1\r\nHost: localhost:${echoPort}\r\n\r\n`);
    assert.match(head, /^HTTP\/1\.1 200 Connection Established\r\n\r\n$/);
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (chunk) => resolve(String(chunk)));
      socket.write('ping through the tunnel');
    });
    assert.equal(echoed, 'ping through the tunnel');
    socket.destroy();
    assert.equal(await counter('fleet_egress_tunnels_total', 'acme'), before + 1);
  });

  test('a CONNECT to a host off the list is refused with 403, counted and logged with client, host and time, no payload', async () => {
    const before = await counter('fleet_egress_refused_total', 'acme');
    const readingsBefore = clockReadings.length;
    const { head } = await exchange(proxyPort, '127.0.0.1', 'CONNECT exfil.example.com:443 HTTP/1.1\r\nHost: exfil.example.com:443\r\nX-Secret: do-not-log\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(head, /not_allowed/);
    assert.equal(await counter('fleet_egress_refused_total', 'acme'), before + 1);
    const entry = (await refusals((line) => line['host'] === 'exfil.example.com')).find((line) => line['host'] === 'exfil.example.com');
    assert.ok(entry, 'the refusal is in the log');
    assert.deepEqual(Object.keys(entry).sort(), ['at', 'client', 'host', 'port', 'reason', 'source']);
    assert.deepEqual([entry['client'], entry['port'], entry['reason'], entry['source']], ['acme', 443, 'not_allowed', '127.0.0.2']);
    assert.ok(clockReadings.slice(readingsBefore).includes(String(entry['at'])), `at ${String(entry['at'])}: the proxy's time of this refusal`);
    assert.doesNotMatch(await readFile(refusedLog, 'utf8'), /do-not-log/);
  });

  test("a provider host of another client's settings is refused: each client has its own list", async () => {
    const { head } = await exchange(proxyPort, '127.0.0.1', 'CONNECT graph.microsoft.com:443 HTTP/1.1\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 403 /, 'graph is on beta (outlook) but not on acme (gmail)');
  });

  test('an IP literal is refused even where its name would be allowed, and a bad target is a 400', async () => {
    const literal = await exchange(proxyPort, '127.0.0.1', `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\n`);
    assert.match(literal.head, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*ip_literal/);
    const bad = await exchange(proxyPort, '127.0.0.1', 'CONNECT /etc/passwd HTTP/1.1\r\n\r\n');
    assert.match(bad.head, /^HTTP\/1\.1 400 Bad Request/);
    const reasons = (await refusals((line) => line['reason'] === 'bad_request')).map((line) => line['reason']);
    assert.ok(reasons.includes('ip_literal') && reasons.includes('bad_request'));
  });

  test('plain-HTTP proxying is refused, even to an allow-listed host', async () => {
    const { head } = await exchange(proxyPort, '127.0.0.1', `GET http://localhost:${echoPort}/ HTTP/1.1\r\nHost: localhost:${echoPort}\r\n\r\n`);
    assert.match(head, /^HTTP\/1\.1 403 Forbidden/);
    assert.ok((await refusals((line) => line['reason'] === 'plain_http')).some((line) => line['reason'] === 'plain_http' && line['host'] === 'localhost'));
  });

  test("a client reaching another client's gateway is cut unanswered and the refusal is counted against itself", async () => {
    const before = await counter('fleet_egress_refused_total', 'acme');
    // From acme's network (127.0.0.2) to beta's listener (127.0.0.9): the gateway does not say who is asking.
    // A cut with the request unread may reach the peer as a reset: either way, nothing is answered.
    const { head } = await exchange(proxyPort, '127.0.0.9', 'CONNECT login.microsoftonline.com:443 HTTP/1.1\r\n\r\n', '127.0.0.2').catch(() => ({ head: '' }));
    assert.equal(head, '', 'cut before a byte is read or said');
    assert.equal(await counter('fleet_egress_refused_total', 'acme'), before + 1);
    assert.ok((await refusals((line) => line['reason'] === 'foreign_source')).some((line) => line['reason'] === 'foreign_source' && line['client'] === 'acme'));
    assert.match(await metrics.metrics(), /^fleet_egress_refused_total\{client="beta"\} 0$/m, "beta's series exists from the start, at 0");
  });

  test('a killed client may open no tunnel at all', async () => {
    statuses.set('acme', 'killed');
    try {
      const { head } = await exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${echoPort} HTTP/1.1\r\n\r\n`);
      assert.match(head, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*client_inactive/);
    } finally {
      statuses.set('acme', 'active');
    }
  });

  test('tunnels beyond the limit get 503, and an unreachable upstream 502', async () => {
    const open = await Promise.all([1, 2].map(() => exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${echoPort} HTTP/1.1\r\n\r\n`)));
    assert.ok(open.every(({ head }) => head.startsWith('HTTP/1.1 200')));
    const third = await exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${echoPort} HTTP/1.1\r\n\r\n`);
    assert.match(third.head, /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*busy/);
    for (const { socket } of open) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const unreachable = await exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${deadPort} HTTP/1.1\r\n\r\n`);
    assert.match(unreachable.head, /^HTTP\/1\.1 502 Bad Gateway/, 'allowed, but nothing listens there');
    const list = await exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${echoPort} HTTP/1.1\r\n\r\n`);
    assert.match(list.head, /^HTTP\/1\.1 200 /, 'the tunnel slots were released');
    list.socket.destroy();
  });
});

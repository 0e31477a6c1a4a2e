// The egress proxy against a hostile agent: names that resolve where they must not lead, a resolver that
// would answer differently the second time, pipelined refusals, slow heads and another network's peers.
// Loopback only; names are resolved by an injected resolver, never by DNS.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createEgressProxies, type EgressProxies } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { createEgressProxyServer, type EgressOutcome } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxy-server.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import { parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';

const ACME = parseClientId('acme');
const BETA = parseClientId('beta');

async function listening(server: net.Server, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Writes `request` from `localAddress`; resolves with what came back once the head is complete, or the socket ended. */
function exchange(port: number, host: string, request: string, localAddress: string): Promise<{ head: string; socket: net.Socket }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress });
    let buffer = '';
    const done = () => resolve({ head: buffer, socket });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.includes('\r\n\r\n')) done();
    });
    socket.once('close', done);
    socket.once('error', done);
    socket.write(request);
  });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the egress proxy and where names lead', () => {
  let dir: string;
  let proxies: EgressProxies;
  let proxyPort: number;
  let upstreamPort: number;
  const servers: net.Server[] = [];
  /** Which loopback address each accepted upstream connection reached. */
  const reached: string[] = [];
  /** The injected resolver's answers, and every name it was asked. */
  const answers = new Map<string, string[]>();
  const asked: string[] = [];
  let refusedLog: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'egress-hostile-'));
    refusedLog = path.join(dir, 'refused.jsonl');
    // One port on two loopback addresses: each server says which one it is.
    const first = net.createServer((socket) => {
      reached.push('127.0.0.1');
      socket.end('from 127.0.0.1');
    });
    upstreamPort = await listening(first, '127.0.0.1');
    const second = net.createServer((socket) => {
      reached.push('127.0.0.3');
      socket.end('from 127.0.0.3');
    });
    await listening(second, '127.0.0.3', upstreamPort);
    servers.push(first, second);
    const probe = net.createServer();
    proxyPort = await listening(probe, '127.0.0.1');
    await new Promise((resolve) => probe.close(resolve));
    proxies = createEgressProxies({
      port: proxyPort,
      extraRules: [parseEgressRule(`mail.example.test:${upstreamPort}`), parseEgressRule(`localhost:${upstreamPort}`)],
      lookupClient: async (clientId) => ({ status: 'active', configYaml: `client: ${clientId}\nprovider: gmail\n` }),
      refusals: new EgressRefusalLog(refusedLog),
      metrics: { serving: () => undefined, refused: () => undefined, tunnelled: () => undefined },
      logger: createSilentLogger(),
      limits: { maxTunnels: 2, connectTimeoutMs: 2000 },
      resolve: async (host) => {
        asked.push(host);
        const answer = answers.get(host);
        if (answer === undefined) throw Object.assign(new Error(`no such name ${host}`), { code: 'ENOTFOUND' });
        return answer;
      },
    });
    await proxies.listen(ACME, { gateway: '127.0.0.1', subnet: '127.0.0.0/30' });
    await proxies.listen(BETA, { gateway: '127.0.0.9', subnet: '127.0.0.8/30' });
  });
  after(async () => {
    await proxies.close();
    for (const server of servers) server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('an allow-listed name that resolves to loopback, a private network or the metadata service is refused, never connected', async () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '::ffff:127.0.0.1', '::1', 'fd00::1', '100.64.0.1', '0.0.0.0']) {
      answers.set('mail.example.test', [address]);
      reached.length = 0;
      const { head, socket } = await exchange(proxyPort, '127.0.0.1', `CONNECT mail.example.test:${upstreamPort} HTTP/1.1\r\n\r\n`, '127.0.0.2');
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*private_address/, address);
      assert.deepEqual(reached, [], `${address}: no connection was made`);
    }
    // The proxy answers before the line is written.
    let text = '';
    for (let attempt = 0; attempt < 100 && !text.includes('private_address'); attempt += 1) {
      text = await readFile(refusedLog, 'utf8').catch(() => '');
      if (!text.includes('private_address')) await settle(20);
    }
    assert.match(text, /"host":"mail.example.test".*"reason":"private_address"/);
  });

  test('the tunnel goes to the address that was checked, not to a second lookup of the name', async () => {
    // The system's resolver says localhost is 127.0.0.1; the proxy's own (checked) answer is 127.0.0.3.
    answers.set('localhost', ['127.0.0.3']);
    asked.length = 0;
    reached.length = 0;
    const { head, socket } = await exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${upstreamPort} HTTP/1.1\r\n\r\n`, '127.0.0.2');
    const whole = await new Promise<string>((resolve) => {
      let text = head;
      socket.on('data', (chunk: string) => (text += chunk));
      if (socket.closed) resolve(text);
      else socket.once('close', () => resolve(text));
    });
    assert.equal(whole, 'HTTP/1.1 200 Connection Established\r\n\r\nfrom 127.0.0.3');
    assert.deepEqual(reached, ['127.0.0.3']);
    assert.deepEqual(asked, ['localhost'], 'resolved once');
  });

  test('a localhost rule reaches loopback only, even if the name is made to point elsewhere', async () => {
    answers.set('localhost', ['10.0.0.7']);
    const { head, socket } = await exchange(proxyPort, '127.0.0.1', `CONNECT localhost:${upstreamPort} HTTP/1.1\r\n\r\n`, '127.0.0.2');
    socket.destroy();
    assert.match(head, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*private_address/);
  });

  test("another network's idle peers cannot fill a client's listener: its own agent still gets through", async () => {
    answers.set('localhost', ['127.0.0.1']);
    // acme's network (127.0.0.2) opens far more connections to beta's gateway than the listener has slots.
    const intruders = await Promise.all(
      Array.from({ length: 40 }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect({ host: '127.0.0.9', port: proxyPort, localAddress: '127.0.0.2' });
        socket.on('error', () => undefined);
        socket.once('connect', () => resolve(socket));
        socket.once('close', () => resolve(socket));
      })),
    );
    await settle(100);
    try {
      const { head, socket } = await exchange(proxyPort, '127.0.0.9', `CONNECT localhost:${upstreamPort} HTTP/1.1\r\n\r\n`, '127.0.0.10');
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 200 /, "beta's agent is served");
    } finally {
      for (const socket of intruders) socket.destroy();
    }
  });
});

describe('the egress proxy server and what one connection may cost', () => {
  test('plain-HTTP requests pipelined on one connection are refused and recorded once', async () => {
    const outcomes: EgressOutcome[] = [];
    const proxy = createEgressProxyServer({ authorize: async () => ({ allow: false, reason: 'not_allowed' }), onOutcome: (outcome) => outcomes.push(outcome) });
    const port = await listening(proxy.server, '127.0.0.1');
    try {
      const { socket } = await exchange(port, '127.0.0.1', 'GET http://exfil.example.com/a HTTP/1.1\r\nHost: exfil.example.com\r\n\r\n'.repeat(500), '127.0.0.1');
      await new Promise((resolve) => (socket.closed ? resolve(undefined) : socket.once('close', resolve)));
      assert.equal(outcomes.length, 1, 'one record, not one per pipelined request');
      assert.equal(outcomes[0]?.kind === 'refused' && outcomes[0].reason, 'plain_http');
    } finally {
      await proxy.close();
    }
  });

  // The hang guard only keeps a broken deadline from stalling the run; the assertions are on the bound and the cut.
  test('a connection whose request head never completes is cut by the header deadline, checked often enough to hold', { timeout: 60_000 }, async () => {
    const outcomes: EgressOutcome[] = [];
    const proxy = createEgressProxyServer({ authorize: async () => ({ allow: false, reason: 'not_allowed' }), onOutcome: (outcome) => outcomes.push(outcome), limits: { headersTimeoutMs: 300 } });
    // Node enforces the deadline only when it checks its connections (every 30 s by default), so a head may
    // drip for the deadline plus that interval: the interval must be a fraction of the deadline.
    assert.equal(proxy.server.headersTimeout, 300);
    assert.equal(proxy.server.requestTimeout, 300);
    // Set from createServer's options, though @types/node does not declare it on the server.
    const checkedEvery: unknown = Reflect.get(proxy.server, 'connectionsCheckingInterval');
    assert.ok(typeof checkedEvery === 'number' && checkedEvery <= 150, `checked every ${String(checkedEvery)} ms`);
    const cuts: Array<string | undefined> = [];
    proxy.server.on('clientError', (error: NodeJS.ErrnoException) => cuts.push(error.code));
    const port = await listening(proxy.server, '127.0.0.1');
    try {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => undefined);
      socket.write('CONNECT mail.example.test:443 HTTP/1.1\r\n');
      const drip = setInterval(() => socket.write('X-A: b\r\n'), 50);
      await new Promise((resolve) => socket.once('close', resolve));
      clearInterval(drip);
      assert.deepEqual(cuts, ['ERR_HTTP_REQUEST_TIMEOUT'], 'cut by the header deadline, not by a parse error or the peer');
      assert.deepEqual(
        outcomes.map((outcome) => outcome.kind === 'refused' && outcome.reason),
        ['bad_request'],
      );
    } finally {
      await proxy.close();
    }
  });
});

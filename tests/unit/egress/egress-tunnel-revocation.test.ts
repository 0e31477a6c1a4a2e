// What is already open when a client's standing changes: a kill, a narrowed allow-list, a gateway that passes
// to another client. Real listeners and sockets on loopback; names resolve through an injected resolver.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { AllowListCache } from '../../../orchestrator/src/adapters/egress-proxy/allow-list-cache.ts';
import { createEgressProxies, type EgressProxies, type EgressProxiesOptions } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import { parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';
import { freePort } from '../../helpers/free-port.ts';

const ACME = parseClientId('acme');
const BETA = parseClientId('beta');
const WITH_CRM = 'client: acme\nprovider: gmail\npermissions:\n  crm.read: true\n';
const WITHOUT_CRM = 'client: acme\nprovider: gmail\n';

/** A CONNECT from `localAddress`; resolves once the proxy's head is in (or the socket closed first). */
function connect(port: number, gateway: string, localAddress: string, target: string): Promise<{ head: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: gateway, port, localAddress });
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', function onData(chunk: string) {
      head += chunk;
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve({ head, socket });
      }
    });
    socket.once('close', () => resolve({ head, socket }));
    socket.once('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}

/** A CONNECT that the proxy is holding (its socket open, no answer yet): sent, and nothing heard back. */
function connectHeld(port: number, gateway: string, localAddress: string, target: string): { socket: net.Socket; heard: () => string; closed: Promise<void> } {
  const socket = net.connect({ host: gateway, port, localAddress });
  let heard = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (heard += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  return { socket, heard: () => heard, closed };
}

const closedOf = (socket: net.Socket) => new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));

async function echoes(socket: net.Socket, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    socket.once('data', (chunk) => resolve(String(chunk) === text));
    socket.once('close', () => resolve(false));
    socket.write(text);
  });
}

describe('tunnels already open when a client is killed or its list narrows', () => {
  let dir: string;
  let echo: net.Server;
  let echoPort: number;
  const statuses = new Map<string, ClientStatus>();
  const configs = new Map<string, string>();
  /** Names being looked up, each with the function that answers it. */
  const lookups: Array<{ host: string; answer: (addresses: string[]) => void }> = [];
  const logs: EgressRefusalLog[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'egress-revoke-'));
    echo = net.createServer((socket) => socket.on('error', () => undefined).pipe(socket)).listen(0, '127.0.0.1');
    await new Promise((resolve) => echo.once('listening', resolve));
    echoPort = (echo.address() as AddressInfo).port;
  });
  after(async () => {
    echo.close();
    // Queued behind each log's pending appends: the directory goes once they are written.
    await Promise.all(logs.map((log) => log.forgetClient('nobody')));
    await rm(dir, { recursive: true, force: true });
  });

  const proxiesWith = async (extra: Partial<EgressProxiesOptions> = {}): Promise<{ proxies: EgressProxies; port: number }> => {
    statuses.set('acme', 'active').set('beta', 'active');
    configs.set('acme', WITH_CRM).set('beta', WITH_CRM);
    lookups.length = 0;
    const port = await freePort();
    const refusals = new EgressRefusalLog(path.join(dir, `refused-${port}.jsonl`));
    logs.push(refusals);
    const proxies = createEgressProxies({
      port,
      extraRules: [parseEgressRule(`localhost:${echoPort}`)],
      lookupClient: async (clientId) => {
        const status = statuses.get(clientId);
        return status === undefined ? null : { status, configYaml: configs.get(clientId) ?? '' };
      },
      // Names other than localhost are looked up but answer only when a test says (never, mostly).
      resolve: (host) => (host === 'localhost' ? Promise.resolve(['127.0.0.1']) : new Promise((answer) => lookups.push({ host, answer }))),
      refusals,
      metrics: { serving: () => undefined, refused: () => undefined, tunnelled: () => undefined },
      logger: createSilentLogger(),
      limits: { connectTimeoutMs: 60_000 },
      ...extra,
    });
    // acme's network 127.0.0.0/30 (gateway .1, agent .2), beta's 127.0.0.8/30 (gateway .9, agent .10).
    await proxies.listen(ACME, { gateway: '127.0.0.1', subnet: '127.0.0.0/30' });
    await proxies.listen(BETA, { gateway: '127.0.0.9', subnet: '127.0.0.8/30' });
    return { proxies, port };
  };

  test("a kill ends the client's open tunnels at once, and only that client's", async () => {
    const { proxies, port } = await proxiesWith();
    try {
      const acme = await connect(port, '127.0.0.1', '127.0.0.2', `localhost:${echoPort}`);
      const beta = await connect(port, '127.0.0.9', '127.0.0.10', `localhost:${echoPort}`);
      assert.match(acme.head, /^HTTP\/1\.1 200 /);
      assert.match(beta.head, /^HTTP\/1\.1 200 /);
      assert.ok(await echoes(acme.socket, 'before the kill'));
      statuses.set('acme', 'killed');
      assert.equal(proxies.closeTunnels(ACME), 1);
      await closedOf(acme.socket);
      assert.ok(await echoes(beta.socket, 'another client carries on'), "beta's tunnel is untouched");
      beta.socket.destroy();
    } finally {
      await proxies.close();
    }
  });

  test('a CONNECT still being decided when the kill comes never opens, whatever its registry read said', async () => {
    let releaseRead!: () => void;
    const readHeld = new Promise<void>((resolve) => (releaseRead = resolve));
    let readStarted!: () => void;
    const reading = new Promise<void>((resolve) => (readStarted = resolve));
    const { proxies, port } = await proxiesWith({
      lookupClient: async (clientId) => {
        readStarted();
        // The row as the read saw it before the kill was recorded, answered after it.
        await readHeld;
        return { status: 'active', configYaml: `client: ${clientId}\nprovider: gmail\n` };
      },
    });
    try {
      const held = connectHeld(port, '127.0.0.1', '127.0.0.2', `localhost:${echoPort}`);
      await reading;
      assert.equal(proxies.closeTunnels(ACME), 1);
      releaseRead();
      await held.closed;
      assert.doesNotMatch(held.heard(), /200/, 'no tunnel opened after the kill');
    } finally {
      await proxies.close();
    }
  });

  test('a narrowed allow-list ends the tunnels to hosts no longer on it and keeps the others', async () => {
    const { proxies, port } = await proxiesWith();
    try {
      const echoed = await connect(port, '127.0.0.1', '127.0.0.2', `localhost:${echoPort}`);
      // Both held while their names are looked up (their tunnels are on the way).
      const crm = connectHeld(port, '127.0.0.1', '127.0.0.2', 'rest9.bullhornstaffing.com:443');
      const mail = connectHeld(port, '127.0.0.1', '127.0.0.2', 'gmail.googleapis.com:443');
      while (lookups.length < 2) await new Promise((resolve) => setImmediate(resolve));
      configs.set('acme', WITHOUT_CRM);
      assert.equal(await proxies.recheck(ACME), 1, 'only the CRM host left the list');
      await crm.closed;
      assert.equal(mail.socket.closed, false);
      assert.ok(await echoes(echoed.socket, 'an extra host stays allowed'));
      statuses.set('acme', 'killed');
      assert.equal(await proxies.recheck(ACME), 2, 'a client no longer active keeps nothing');
      await Promise.all([mail.closed, closedOf(echoed.socket)]);
    } finally {
      await proxies.close();
    }
  });

  test('with nobody calling, the periodic re-check still ends the tunnels of a killed client', async () => {
    const { proxies, port } = await proxiesWith({ recheckIntervalMs: 20 });
    try {
      const acme = await connect(port, '127.0.0.1', '127.0.0.2', `localhost:${echoPort}`);
      assert.match(acme.head, /^HTTP\/1\.1 200 /);
      statuses.set('acme', 'killed');
      await closedOf(acme.socket);
    } finally {
      await proxies.close();
    }
  });

  test("a gateway passed to another client cuts the tunnels of the one before and forgets that client's list", async () => {
    const allowLists = new AllowListCache();
    const { proxies, port } = await proxiesWith({ allowLists });
    try {
      const acme = await connect(port, '127.0.0.1', '127.0.0.2', `localhost:${echoPort}`);
      const beta = await connect(port, '127.0.0.9', '127.0.0.10', `localhost:${echoPort}`);
      assert.deepEqual(allowLists.clients().sort(), ['acme', 'beta']);
      // acme deprovisioned, its subnet given to a new client.
      await proxies.listen(parseClientId('gamma'), { gateway: '127.0.0.1', subnet: '127.0.0.0/30' });
      await closedOf(acme.socket);
      assert.deepEqual(allowLists.clients(), ['beta']);
      await proxies.release(BETA);
      await closedOf(beta.socket);
      assert.deepEqual(allowLists.clients(), []);
    } finally {
      await proxies.close();
    }
  });
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createServer, request, type RequestListener, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { HealthFrontDoor } from '../../../agent-image/src/http/health-front-door.ts';
import { StartupClock } from '../../../agent-image/src/startup/startup-clock.ts';

interface Answer {
  status: number;
  body: string;
  contentType: string | undefined;
}

function call(port: number, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, contentType: response.headers['content-type'] }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('the control server’s front door: /healthz at once, the rest once the agent is composed', () => {
  const clientId = parseClientId('acme');
  let door: HealthFrontDoor;
  let server: Server;
  let port: number;

  before(async () => {
    door = new HealthFrontDoor(clientId);
    server = createServer(door.listener);
    door.watch(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  test('before the app is composed: /healthz answers for this client, other requests wait and are then served by the app', async () => {
    const health = await call(port, 'GET', '/healthz?probe=1');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok', client: 'acme' });
    assert.match(health.contentType ?? '', /^application\/json/);
    const head = await call(port, 'HEAD', '/healthz');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');

    let answered = false;
    const early = call(port, 'POST', '/v1/introduce').then((answer) => {
      answered = true;
      return answer;
    });
    const postToHealth = call(port, 'POST', '/healthz');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(answered, false, 'nothing but /healthz is answered before the app exists');

    const seen: string[] = [];
    const app: RequestListener = (incoming, response) => {
      seen.push(`${incoming.method} ${incoming.url}`);
      response.writeHead(418).end('from the app');
    };
    door.open(app);
    assert.deepEqual(await early, { status: 418, body: 'from the app', contentType: undefined });
    assert.equal((await postToHealth).status, 418, 'only GET and HEAD are the health check');
    assert.deepEqual(await call(port, 'GET', '/readyz'), { status: 418, body: 'from the app', contentType: undefined });
    assert.equal((await call(port, 'GET', '/healthz')).status, 200, 'still answered by the front door');
    assert.deepEqual(seen.sort(), ['GET /readyz', 'POST /healthz', 'POST /v1/introduce']);
  });
});

/** Lets the event loop turn a few times: what `settled()` resolves on (an immediate and its promise) has run. */
async function turns(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('the front door lets the start pause while a connection is on its way to its first request', () => {
  // The door's 100 ms runs on a mocked clock: what is asserted is where the wait ends, not how long it took.
  test('settled waits for an accepted connection until it sends its request, and for a silent one 100 ms', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const door = new HealthFrontDoor(parseClientId('acme'));
    const server = createServer(door.listener);
    door.watch(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const sockets: Socket[] = [];
    const settledState = () => {
      const state = { settled: false, done: Promise.resolve() };
      state.done = door.settled().then(() => void (state.settled = true));
      return state;
    };
    try {
      const quiet = settledState();
      await turns();
      assert.equal(quiet.settled, true, 'nothing to wait for: settled without the clock moving');

      const accepted = once(server, 'connection');
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      await accepted;
      const held = settledState();
      t.mock.timers.tick(99);
      await turns();
      assert.equal(held.settled, false, 'a connection without its request yet holds the start');
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await held.done;
      socket.destroy();

      const acceptedSilent = once(server, 'connection');
      const silent = connect(port, '127.0.0.1');
      sockets.push(silent);
      silent.on('error', () => undefined);
      await acceptedSilent;
      const waiting = settledState();
      t.mock.timers.tick(99);
      await turns();
      assert.equal(waiting.settled, false, 'a silent connection is waited for up to 100 ms');
      t.mock.timers.tick(1);
      await turns();
      assert.equal(waiting.settled, true, 'and no longer');
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});

describe('startup clock', () => {
  test('reports each phase in order, /healthz before the runtime loads', () => {
    let now = 100;
    const clock = new StartupClock(() => now, 30);
    now = 120;
    clock.end('configAndTls');
    now = 125;
    clock.end('listen');
    now = 185;
    clock.end('runtimeLoad');
    now = 195;
    clock.end('compose');
    assert.deepEqual(clock.timings(), {
      runtimeStartMs: 30,
      moduleLoadMs: 70,
      configAndTlsMs: 20,
      listenMs: 5,
      healthzMs: 125,
      runtimeLoadMs: 60,
      composeMs: 10,
      composedMs: 195,
    });
  });
});

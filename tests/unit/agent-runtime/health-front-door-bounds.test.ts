// While the agent starts, its front door holds the requests it cannot serve yet: a bounded number, for a
// bounded time, and a caller past either is refused at once with 503 and Retry-After.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { test, type TestContext } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { HealthFrontDoor, type HealthFrontDoorOptions } from '../../../agent-image/src/http/health-front-door.ts';

interface Answer {
  status: number;
  body: string;
  retryAfter: string | undefined;
  connection: string | undefined;
}

interface Call {
  answer: Promise<Answer>;
  abort(): void;
}

function call(port: number, method: string, path: string): Call {
  let abort = () => undefined as void;
  const answer = new Promise<Answer>((resolve, reject) => {
    // A connection of its own per request, as separate callers have.
    const outgoing = request({ host: '127.0.0.1', port, method, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, retryAfter: response.headers['retry-after'], connection: response.headers.connection }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
    abort = () => outgoing.destroy();
  });
  return { answer, abort };
}

interface Bed {
  door: HealthFrontDoor;
  port: number;
  /** Resolves with the server's side of the next `count` requests, in arrival order. */
  arrivals(count: number): Promise<Array<{ request: IncomingMessage; response: ServerResponse }>>;
}

async function bed(t: TestContext, options: HealthFrontDoorOptions): Promise<Bed> {
  const door = new HealthFrontDoor(parseClientId('acme'), options);
  const server: Server = createServer(door.listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const arrivals = (count: number) =>
    new Promise<Array<{ request: IncomingMessage; response: ServerResponse }>>((resolve) => {
      const seen: Array<{ request: IncomingMessage; response: ServerResponse }> = [];
      const onRequest = (incoming: IncomingMessage, response: ServerResponse) => {
        seen.push({ request: incoming, response });
        if (seen.length < count) return;
        server.off('request', onRequest);
        resolve(seen);
      };
      server.on('request', onRequest);
    });
  return { door, port, arrivals };
}

const appAnswering = (seen: string[]): RequestListener => (incoming, response) => {
  seen.push(`${incoming.method} ${incoming.url}`);
  response.writeHead(200).end('from the app');
};

test('past the bound of held requests a caller is refused at once with 503 and Retry-After; /healthz is still answered', async (t) => {
  const { door, port, arrivals } = await bed(t, { maxWaiting: 2 });
  const held = arrivals(2);
  const first = call(port, 'POST', '/v1/introduce');
  const second = call(port, 'GET', '/v1/status');
  await held;
  const arrivedThird = arrivals(1);
  const third = call(port, 'GET', '/v1/approvals');
  await arrivedThird;
  assert.equal((await call(port, 'GET', '/healthz').answer).status, 200, 'liveness does not queue');

  const seen: string[] = [];
  // Opened only now: a third request held with the first two would reach the app.
  door.open(appAnswering(seen));
  const refused = await third.answer;
  assert.equal(refused.status, 503);
  assert.deepEqual(JSON.parse(refused.body), { code: 'unavailable', message: 'the agent is starting; try again shortly' });
  assert.match(refused.retryAfter ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');
  assert.equal(refused.connection, 'close');
  assert.equal((await first.answer).status, 200);
  assert.equal((await second.answer).status, 200);
  assert.deepEqual(seen.sort(), ['GET /v1/status', 'POST /v1/introduce'], 'the held requests reach the app; the refused one never does');
  assert.equal((await call(port, 'GET', '/v1/approvals').answer).status, 200, 'once open there is no bound');
});

test('a held request that waits longer than the start may take is answered 503 and never reaches the app', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { door, port, arrivals } = await bed(t, { maxWaiting: 2, maxWaitMs: 1000 });
  const arrived = arrivals(1);
  const late = call(port, 'POST', '/v1/introduce');
  await arrived;
  t.mock.timers.tick(1000);
  const seen: string[] = [];
  door.open(appAnswering(seen));
  const answer = await late.answer;
  assert.equal(answer.status, 503);
  assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/);
  assert.deepEqual(seen, [], 'the timed-out request never reaches the app');
});

test('a caller that goes away while held gives its place back', async (t) => {
  const { door, port, arrivals } = await bed(t, { maxWaiting: 1 });
  const arrived = arrivals(1);
  const leaving = call(port, 'GET', '/v1/status');
  leaving.answer.catch(() => undefined);
  const [server] = await arrived;
  const closed = once(server!.response, 'close');
  leaving.abort();
  await closed;

  const arrivedNext = arrivals(1);
  const staying = call(port, 'GET', '/v1/approvals');
  await arrivedNext;
  const seen: string[] = [];
  door.open(appAnswering(seen));
  assert.equal((await staying.answer).status, 200, 'held in the freed place, then served');
  assert.deepEqual(seen, ['GET /v1/approvals']);
});

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { ClientId } from '@agent-fleet/kernel/client-id';

/** The liveness answer: the process serves, for this client. Also served by the control app itself. */
export function healthBody(clientId: string): { status: 'ok'; client: string } {
  return { status: 'ok', client: clientId };
}

/** How long a connection may take from its TCP accept to its first request before the start stops waiting for it. */
const MAX_WAIT_PER_CONNECTION_MS = 100;

export interface HealthFrontDoorOptions {
  /**
   * Requests held while the agent starts; one past it is answered 503 at once. Default 16: the orchestrator
   * sends a handful (the introduction, a status), and each held request keeps its socket and buffers.
   */
  maxWaiting?: number;
  /** Milliseconds a held request waits for the app before it is answered 503. Default 30 000 (half the request time limit). */
  maxWaitMs?: number;
}

/** Seconds a refused caller is told to wait before it asks again. */
const RETRY_AFTER_SECONDS = 2;
const STARTING_BODY = JSON.stringify({ code: 'unavailable', message: 'the agent is starting; try again shortly' });

/** A request held until the app is composed. */
interface Waiter {
  deliver(app: RequestListener): void;
  /** Stops its timer and its watch of the connection. */
  release(): void;
}

function isHealthCheck(request: IncomingMessage): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const url = request.url ?? '';
  const end = url.indexOf('?');
  return (end === -1 ? url : url.slice(0, end)) === '/healthz';
}

/**
 * The control server's request listener from the moment it listens: `/healthz` is answered at once, and
 * every other request waits until the control app is composed (issue 18: liveness does not wait for the
 * runtime, express or the metrics exporter to load). A request never reaches a half-built app. Waiting is
 * bounded: at most `maxWaiting` requests, each at most `maxWaitMs`; any other is answered 503 with
 * Retry-After and its connection closed, so callers cannot pile up requests while the agent starts. A
 * caller that goes away gives its place back.
 *
 * Loading a module holds the event loop, and a TLS handshake needs several turns of it: `settled()` lets
 * the start pause between the modules it loads while a connection is between its accept and its first
 * request (at most 100 ms each), so a liveness probe is answered before the next module loads.
 */
export class HealthFrontDoor {
  private readonly body: string;
  private app: RequestListener | null = null;
  private readonly maxWaiting: number;
  private readonly maxWaitMs: number;
  private readonly waiting = new Set<Waiter>();
  private readonly connecting = new Map<string, () => void>();
  private readonly onSettled: Array<() => void> = [];

  constructor(clientId: ClientId, options: HealthFrontDoorOptions = {}) {
    this.body = JSON.stringify(healthBody(clientId));
    this.maxWaiting = options.maxWaiting ?? 16;
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
  }

  readonly listener: RequestListener = (request, response) => {
    this.connecting.get(peerOf(request.socket))?.();
    if (isHealthCheck(request)) {
      this.answerHealth(request, response);
      return;
    }
    if (this.app !== null) {
      this.app(request, response);
      return;
    }
    if (this.waiting.size >= this.maxWaiting) {
      answerStarting(response);
      return;
    }
    this.hold(request, response);
  };

  /** Follows `server`'s connections from their accept to their first request (see `settled`). */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => {
      const peer = peerOf(socket);
      const done = () => {
        clearTimeout(timer);
        if (this.connecting.get(peer) !== done) return;
        this.connecting.delete(peer);
        if (this.connecting.size === 0) for (const resolve of this.onSettled.splice(0)) resolve();
      };
      const timer = setTimeout(done, MAX_WAIT_PER_CONNECTION_MS);
      this.connecting.set(peer, done);
      socket.once('close', done);
    });
  }

  /** Resolves after the event loop has turned once and no watched connection is still on its way to its first request. */
  settled(): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() => {
        if (this.connecting.size === 0) resolve();
        else this.onSettled.push(resolve);
      }),
    );
  }

  /** Hands every request from now on, and those that waited, to `app`. */
  open(app: RequestListener): void {
    this.app = app;
    const waiters = [...this.waiting];
    this.waiting.clear();
    for (const waiter of waiters) {
      waiter.release();
      waiter.deliver(app);
    }
  }

  private hold(request: IncomingMessage, response: ServerResponse): void {
    const gone = () => {
      waiter.release();
      this.waiting.delete(waiter);
    };
    const timer = setTimeout(() => {
      gone();
      answerStarting(response);
    }, this.maxWaitMs);
    const waiter: Waiter = {
      deliver: (app) => app(request, response),
      release: () => {
        clearTimeout(timer);
        response.off('close', gone);
      },
    };
    response.once('close', gone);
    this.waiting.add(waiter);
  }

  private answerHealth(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(this.body), 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : this.body);
  }
}

/** 503 with Retry-After, closing the connection: its unread body is not worth keeping it open for. */
function answerStarting(response: ServerResponse): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(STARTING_BODY),
    'cache-control': 'no-store',
    'retry-after': String(RETRY_AFTER_SECONDS),
    connection: 'close',
  });
  response.end(STARTING_BODY);
}

function peerOf(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
}

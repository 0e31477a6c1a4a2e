import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { answerWithin } from '@agent-fleet/kernel/answer-within';
import type { EgressDecision, EgressRefusal, EgressRule, EgressUpstreamFailure } from '../../domain/egress-allow-list.ts';
import { parseConnectTarget, type ConnectTarget } from './connect-target.ts';
import { egressAddressesOf, pinnedLookup, systemEgressResolver, systemHostAddresses, type EgressResolver, type HostAddresses } from './egress-addresses.ts';
import { LookupSlots, type LookupRunner } from './lookup-slots.ts';

/** Bounds of one listener. Every value has a default; tests shorten them. */
export interface EgressProxyLimits {
  /** Tunnels open at once on this listener; more are answered 503. Default 64. */
  maxTunnels: number;
  /** Milliseconds to resolve, and again to reach, the upstream host before answering 504. Default 10 000. */
  connectTimeoutMs: number;
  /** Milliseconds a tunnel may sit without a byte either way before both ends are closed. Default 300 000. */
  idleTimeoutMs: number;
  /** Milliseconds for the CONNECT request's headers to arrive. Default 10 000. */
  headersTimeoutMs: number;
  /**
   * Milliseconds to decide a CONNECT (the registry read behind `authorize`) before answering 500: a hung
   * registry must not leave requests holding connection slots with no answer. Default 10 000.
   */
  decisionTimeoutMs: number;
  /**
   * Name lookups of this listener in flight at once, each counted until it ends; more wait, and one that
   * gets no slot within `connectTimeoutMs` is refused (`lookup_busy`). Default 2.
   */
  maxLookups: number;
}

export const DEFAULT_EGRESS_LIMITS: EgressProxyLimits = {
  maxTunnels: 64,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 10_000,
  decisionTimeoutMs: 10_000,
  maxLookups: 2,
};

/** What happened to one request; the payload of a tunnel is never seen, let alone recorded. */
export type EgressOutcome =
  | { kind: 'tunnel'; source: string; target: ConnectTarget }
  | { kind: 'refused'; source: string; target: ConnectTarget | null; reason: EgressRefusal }
  /** Allowed, yet the upstream host was never reached (answered 502 or 504). */
  | { kind: 'failed'; source: string; target: ConnectTarget; reason: EgressUpstreamFailure }
  /**
   * The proxy could not decide (`authorize` failed, or did not answer within `decisionTimeoutMs`): answered
   * 500, never tunnelled. `error` is for the operator's log, never for the agent.
   */
  | { kind: 'error'; source: string; target: ConnectTarget; error: unknown };

export interface EgressProxyServerOptions {
  /**
   * Decides one CONNECT from `source` (the peer's address); called before any upstream connection. A
   * rejection is the proxy's own failure: the request is refused all the same (500) and reported as `error`.
   */
  authorize(source: string, target: ConnectTarget): Promise<EgressDecision>;
  /**
   * Whether a peer at `source` may use this listener at all; others are cut at once, before a byte is read,
   * so that they hold none of its connection slots. Default: every source.
   */
  acceptsSource?(source: string): boolean;
  /** How target names become addresses. Default: the host's resolver. */
  resolve?: EgressResolver;
  /**
   * Where this listener's name lookups get their slots: its share of the fleet's (see `LookupPool`).
   * Default: `maxLookups` slots of its own.
   */
  lookups?: LookupRunner;
  /** The host's own addresses, where no name may lead. Default: its interfaces' addresses. */
  hostAddresses?: HostAddresses;
  /** Told of every tunnel opened, every request refused and every allowed one whose host was not reached. */
  onOutcome(outcome: EgressOutcome): void;
  limits?: Partial<EgressProxyLimits>;
}

/** The proxy's own failure to decide: no verdict on the host, and no tunnel either. */
type ProxyFailure = 'proxy_error';

const STATUS: Record<EgressRefusal | EgressUpstreamFailure | ProxyFailure, string> = {
  not_allowed: '403 Forbidden',
  ip_literal: '403 Forbidden',
  foreign_source: '403 Forbidden',
  client_inactive: '403 Forbidden',
  plain_http: '403 Forbidden',
  private_address: '403 Forbidden',
  bad_request: '400 Bad Request',
  busy: '503 Service Unavailable',
  lookup_busy: '503 Service Unavailable',
  unreachable: '502 Bad Gateway',
  timeout: '504 Gateway Timeout',
  proxy_error: '500 Internal Server Error',
};

/** A short answer on a raw socket, then close: the client learns why, and nothing else is said. */
function answer(socket: Duplex, why: keyof typeof STATUS): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${STATUS[why]}\r\nContent-Type: text/plain\r\nContent-Length: ${why.length + 1}\r\nConnection: close\r\n\r\n${why}\n`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** One listening proxy and the way to stop it, tunnels included. */
export interface EgressProxyServer {
  server: Server;
  /**
   * Cuts at once every CONNECT whose target `which` picks, whatever its stage: being decided, resolving,
   * connecting upstream or open. A cut request never opens a tunnel afterwards. Returns how many were cut.
   */
  cut(which: (target: ConnectTarget) => boolean): number;
  /** CONNECTs held now (being decided, resolving, connecting or open). */
  readonly held: number;
  /** Stops listening and cuts every open tunnel. */
  close(): Promise<void>;
}

/**
 * An HTTP proxy that only tunnels (CONNECT by host name, no TLS interception): each CONNECT is authorised,
 * then bytes are copied both ways until either side closes or the tunnel idles out. Plain-HTTP proxying
 * (absolute-form requests) is refused: every client the agent uses tunnels, even to http:// URLs. What goes
 * inside a tunnel is never seen, so an agent can still front a request to another site through an allowed
 * host that serves it (domain fronting on a shared CDN front): only the allowed hosts' own policies stop that.
 */
export function createEgressProxyServer(options: EgressProxyServerOptions): EgressProxyServer {
  const limits = { ...DEFAULT_EGRESS_LIMITS, ...options.limits };
  let tunnels = 0;
  // A socket handed to the 'connect' event is no longer the HTTP server's to close: it is tracked here, with
  // the target it asked for once that parsed (what a cut picks by).
  const hijacked = new Map<Duplex, ConnectTarget | null>();
  const refuse = (socket: Duplex, source: string, target: ConnectTarget | null, reason: EgressRefusal) => {
    options.onOutcome({ kind: 'refused', source, target, reason });
    answer(socket, reason);
  };
  const fail = (socket: Duplex, source: string, target: ConnectTarget, reason: EgressUpstreamFailure) => {
    options.onOutcome({ kind: 'failed', source, target, reason });
    answer(socket, reason);
  };

  const resolve = options.resolve ?? systemEgressResolver;
  const lookups = options.lookups ?? new LookupSlots(limits.maxLookups);
  const hostAddresses = options.hostAddresses ?? systemHostAddresses;
  // Plain-HTTP requests pipelined behind the first on one connection: refused (and recorded) once, not each.
  const answered = new WeakSet<object>();

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.headersTimeoutMs,
      // The header deadline is enforced only at this interval (Node's default 30 s would let a slow
      // client hold a connection slot three times the deadline).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
      maxHeaderSize: 8192,
    },
    (request: IncomingMessage, response: ServerResponse) => {
      const source = request.socket.remoteAddress ?? '';
      if (answered.has(request.socket)) return void request.socket.destroy();
      answered.add(request.socket);
      let target: ConnectTarget | null = null;
      try {
        const url = new URL(request.url ?? '');
        target = parseConnectTarget(`${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`);
      } catch {
        // Not absolute-form: not a proxy request at all.
      }
      options.onOutcome({ kind: 'refused', source, target, reason: 'plain_http' });
      response.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end('plain_http\n', () => request.socket.destroy());
    },
  );
  // Tunnels beyond the limit still get an answer (503); sockets beyond this hard cap are dropped unread.
  server.maxConnections = limits.maxTunnels + 16;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A request the parser rejected (a bad request line, a header flood, a head too slow to arrive) is refused
    // like any other, so an agent probing with garbage leaves a trace; a peer that merely reset does not.
    const malformed = error.code?.startsWith('HPE_') === true || error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (malformed && !answered.has(socket)) {
      options.onOutcome({ kind: 'refused', source: (socket as net.Socket).remoteAddress ?? '', target: null, reason: 'bad_request' });
    }
    socket.destroy();
  });
  server.on('connection', (socket: net.Socket) => {
    const source = socket.remoteAddress ?? '';
    if (options.acceptsSource === undefined || options.acceptsSource(source)) return;
    socket.destroy();
    options.onOutcome({ kind: 'refused', source, target: null, reason: 'foreign_source' });
  });

  server.on('connect', (request: IncomingMessage, client: Duplex, head: Buffer) => {
    const source = request.socket.remoteAddress ?? '';
    const target = parseConnectTarget(request.url ?? '');
    hijacked.set(client, target);
    client.on('close', () => hijacked.delete(client));
    client.on('error', () => client.destroy());
    if (target === null) return refuse(client, source, null, 'bad_request');
    void answerWithin(options.authorize(source, target), limits.decisionTimeoutMs, `no egress decision within ${limits.decisionTimeoutMs} ms`).then(
      (decision) => {
        // Cut while being decided (a kill, a narrowed list): its decision may predate the cut.
        if (client.destroyed) return;
        if (!decision.allow) return refuse(client, source, target, decision.reason);
        if (tunnels >= limits.maxTunnels) return refuse(client, source, target, 'busy');
        tunnels += 1;
        return connect(client, source, target, decision.rule, head);
      },
      (error: unknown) => {
        // Fail closed, and say it is the proxy that failed: a 403 or 502 would blame the host.
        options.onOutcome({ kind: 'error', source, target, error });
        answer(client, 'proxy_error');
      },
    ).catch(() => client.destroy());
  });

  /** Resolves the target (holding its tunnel slot meanwhile), then opens the tunnel to a checked address. */
  async function connect(client: Duplex, source: string, target: ConnectTarget, rule: EgressRule, head: Buffer): Promise<void> {
    let released = false;
    const release = () => {
      if (!released) tunnels -= 1;
      released = true;
    };
    client.once('close', release);
    const where = await egressAddressesOf(rule, target.host, { resolve, timeoutMs: limits.connectTimeoutMs, slots: lookups, hostAddresses });
    if (client.destroyed) return release();
    if (where.kind === 'private_address' || where.kind === 'lookup_busy') {
      release();
      return refuse(client, source, target, where.kind);
    }
    if (where.kind !== 'addresses') {
      release();
      return fail(client, source, target, where.kind);
    }
    open(client, target, where.addresses, head, release, {
      opened: () => options.onOutcome({ kind: 'tunnel', source, target }),
      failed: (why) => fail(client, source, target, why),
    });
  }

  /** How `open` tells what became of the upstream: reached (the tunnel is open), or never reached and why. */
  interface UpstreamReport {
    opened(): void;
    failed(why: EgressUpstreamFailure): void;
  }

  function open(client: Duplex, target: ConnectTarget, addresses: readonly string[], head: Buffer, release: () => void, report: UpstreamReport): void {
    let state: 'connecting' | 'open' | 'closed' = 'connecting';
    const upstream = net.connect({ host: target.host, port: target.port, lookup: pinnedLookup(addresses), timeout: limits.connectTimeoutMs });
    const finish = (failure: EgressUpstreamFailure | null) => {
      if (state === 'closed') return;
      // Before the tunnel opened the client is told why (and closed by answer); after, both ends just close.
      if (state === 'connecting' && failure !== null && !client.destroyed) report.failed(failure);
      else client.destroy();
      state = 'closed';
      release();
      upstream.destroy();
    };
    upstream.once('connect', () => {
      state = 'open';
      upstream.setTimeout(limits.idleTimeoutMs);
      report.opened();
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('timeout', () => finish('timeout'));
    upstream.on('error', () => finish('unreachable'));
    upstream.on('close', () => finish('unreachable'));
    client.on('close', () => finish(null));
  }

  return {
    server,
    cut(which) {
      let cut = 0;
      for (const [socket, target] of hijacked) {
        if (target === null || socket.destroyed || !which(target)) continue;
        socket.destroy();
        cut += 1;
      }
      return cut;
    },
    get held() {
      return hijacked.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of hijacked.keys()) socket.destroy();
        server.closeAllConnections();
      }),
  };
}

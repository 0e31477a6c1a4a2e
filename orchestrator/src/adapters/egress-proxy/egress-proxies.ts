import type { AddressInfo } from 'node:net';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import type { Logger } from '@agent-fleet/kernel/logger';
import { SingleFlight } from '@agent-fleet/kernel/single-flight';
import type { ClientStatus } from '../../domain/client-status.ts';
import { decideEgress, egressAllowListFor, type EgressAllowList, type EgressDecision } from '../../domain/egress-allow-list.ts';
import { cidrContains, ipv4Value, parseIpv4Cidr, type Ipv4Cidr } from '../../domain/ipv4-cidr.ts';
import { systemClock, type Clock } from '../../ports/clock.ts';
import type { EgressTunnels } from '../../ports/egress-tunnels.ts';
import type { ConnectTarget } from './connect-target.ts';
import type { EgressResolver } from './egress-addresses.ts';
import { createEgressProxyServer, DEFAULT_EGRESS_LIMITS, type EgressOutcome, type EgressProxyLimits, type EgressProxyServer } from './egress-proxy-server.ts';
import { AllowListCache } from './allow-list-cache.ts';
import type { EgressRefusalLog } from './egress-refusal-log.ts';
import { LookupPool } from './lookup-slots.ts';
import { RefusalLogBudget } from './refusal-log-budget.ts';
import { EGRESS_UNKNOWN_CLIENT } from '../../observability/metrics.ts';

export interface EgressProxiesOptions {
  /** Port of every client's proxy, on that client's network gateway. */
  port: number;
  /** Hosts every client may reach besides its provider hosts (the fleet's FLEET_EGRESS_EXTRA_HOSTS). */
  extraRules: EgressAllowList;
  /**
   * The client as the registry has it now (asked at every CONNECT, so a config change or a kill applies at
   * once; CONNECTs that arrive while a read for their client is on its way share the one read after it).
   */
  lookupClient(clientId: ClientId): Promise<{ status: ClientStatus; configYaml: string } | null>;
  refusals: EgressRefusalLog;
  /**
   * `serving` starts a client's series at 0 when its proxy starts, so that its first refusal is an increase.
   * `upstreamFailed` counts allowed requests whose host was not reached (never as refusals: a provider's
   * outage is no agent asking for what it should not). `decisionFailed` counts requests refused because the
   * proxy could not decide them (the registry failed or hung): the proxy's fault, not the agent's nor a host's.
   */
  metrics: {
    serving(client: string): void;
    refused(client: string): void;
    tunnelled(client: string): void;
    upstreamFailed?(client: string): void;
    decisionFailed?(client: string): void;
  };
  logger: Logger;
  clock?: Clock;
  limits?: Partial<EgressProxyLimits>;
  /** How target names become addresses. Default: the host's resolver. */
  resolve?: EgressResolver;
  /**
   * Name lookups in flight at once across every listener (each listener still holds at most its
   * `limits.maxLookups` of them). Default 8: half of the 16 libuv threads the service runs with
   * (UV_THREADPOOL_SIZE), so file and crypto work keep the rest however many agents flood.
   */
  fleetLookups?: number;
  /**
   * Milliseconds between re-checks of the clients with open tunnels against the registry, cutting what
   * their status or list no longer admits: the backstop for a change nobody called `recheck` or
   * `closeTunnels` for. Default 30 000.
   */
  recheckIntervalMs?: number;
  /** Where parsed allow-lists are kept. Injectable for tests. */
  allowLists?: AllowListCache;
}

/** Every client's egress proxy, one listener per client network gateway. */
export interface EgressProxies extends EgressTunnels {
  /**
   * Serves the client's proxy on its network's gateway (once per gateway); returns its URL, e.g.
   * http://10.213.0.1:7402. A gateway that passes to another client cuts the tunnels of the one before.
   */
  listen(clientId: ClientId, network: { gateway: string; subnet: string }): Promise<string>;
  /** Stops the client's listeners and cuts their tunnels (its network is gone), and forgets its list. */
  release(clientId: ClientId): Promise<void>;
  /** Stops every listener and cuts every open tunnel. */
  close(): Promise<void>;
}

/** Log lines per client per minute for requests the proxy could not decide. */
const DECISION_ERROR_LINES_PER_MINUTE = 5;

/**
 * What the log says of a failure to decide: its kind, code and message, cut short. Never the error object
 * itself, whose fields (a driver's query text, a connection's settings) are not the log's business.
 */
function errorSummary(error: unknown): string {
  const code = typeof (error as { code?: unknown } | null)?.code === 'string' ? ` (${(error as { code: string }).code})` : '';
  const text = error instanceof Error ? `${error.name}${code}: ${error.message}` : `non-error rejection: ${typeof error}`;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Only an agent that is running or coming up may reach out; a killed client's stragglers are refused. */
const MAY_CONNECT = new Set<ClientStatus>(['active', 'provisioning']);

interface Listener {
  clientId: ClientId;
  subnet: Ipv4Cidr;
  url: Promise<string>;
  proxy: EgressProxyServer | null;
}

/** The IPv4 address a peer came from (an IPv4-mapped IPv6 form too) as a number, or null. */
const sourceValue = (source: string): number | null => ipv4Value(source.replace(/^::ffff:/i, ''));

/**
 * Starts no listener yet: `listen` adds one per client network. A CONNECT is decided by the network it
 * arrives from (its source address), never by the gateway address it was sent to: every gateway is a
 * local address of the host, so client A can reach B's gateway too, and must not get B's list.
 */
export function createEgressProxies(options: EgressProxiesOptions): EgressProxies {
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ component: 'egress-proxy' });
  const listeners = new Map<string, Listener>();
  const lists = options.allowLists ?? new AllowListCache();

  // One registry read per client at a time: an agent can open CONNECTs as fast as it likes, and each asking
  // the registry on its own would let it fill the database's pool that every client and the API share. Never
  // a read begun before the CONNECT came: that one may predate a kill, and would let a tunnel open after it.
  const reading = new SingleFlight<ClientId, Awaited<ReturnType<EgressProxiesOptions['lookupClient']>>>({ share: 'started-after-call' });
  const currentClient = (clientId: ClientId) => reading.run(clientId, () => options.lookupClient(clientId));

  const pool = new LookupPool(options.fleetLookups ?? 8);
  const listenersOf = (clientId: ClientId): Listener[] => [...listeners.values()].filter((entry) => entry.clientId === clientId);
  /** The cached list goes with the client's last listener: a client that has none asks no CONNECT. */
  const forgetListUnlessListening = (clientId: ClientId): void => {
    if (listenersOf(clientId).length === 0) lists.forget(clientId);
  };

  // Asked at every connection, CONNECT and outcome, across every client's listener: the source is parsed once,
  // not once per listener (which made each connection cost milliseconds in a fleet of hundreds, enough for
  // one agent's connection flood to stall the orchestrator's event loop).
  const ownerOf = (source: string): Listener | undefined => {
    const value = sourceValue(source);
    if (value === null) return undefined;
    for (const entry of listeners.values()) if (cidrContains(entry.subnet, value)) return entry;
    return undefined;
  };

  const allowListOf = (clientId: ClientId, configYaml: string): EgressAllowList =>
    lists.listFor(clientId, configYaml, () => {
      try {
        return egressAllowListFor(parseClientConfigYaml(configYaml, `config of ${clientId}`), options.extraRules);
      } catch (error) {
        logger.error('client config unreadable: its agent may reach only the extra hosts', { client: clientId, error });
        return options.extraRules;
      }
    });

  const authorize = async (gateway: string, source: string, target: ConnectTarget): Promise<EgressDecision> => {
    const listener = listeners.get(gateway);
    if (listener === undefined || ownerOf(source) !== listener) return { allow: false, reason: 'foreign_source' };
    const clientId = listener.clientId;
    const client = await currentClient(clientId);
    // Released or passed to another client while the registry answered: that answer is not this network's.
    if (listeners.get(gateway) !== listener || listener.clientId !== clientId) return { allow: false, reason: 'foreign_source' };
    if (client === null || !MAY_CONNECT.has(client.status)) return { allow: false, reason: 'client_inactive' };
    return decideEgress(allowListOf(clientId, client.configYaml), target);
  };

  // A registry that is down fails every CONNECT of every agent: a few lines per client per minute say so,
  // the next one how many were left out; the counter counts each.
  const decisionErrorLines = new RefusalLogBudget(DECISION_ERROR_LINES_PER_MINUTE, 60_000);
  const reportDecisionError = (client: string, outcome: Extract<EgressOutcome, { kind: 'error' }>): void => {
    options.metrics.decisionFailed?.(client);
    const admission = decisionErrorLines.admit(client, clock.now().getTime());
    if (!admission.write) return;
    logger.error('egress request refused: the proxy could not decide it', {
      client,
      host: outcome.target.host,
      port: outcome.target.port,
      error: errorSummary(outcome.error),
      ...(admission.suppressed > 0 ? { suppressed: admission.suppressed } : {}),
    });
  };

  const record = (outcome: EgressOutcome): void => {
    const client = ownerOf(outcome.source)?.clientId ?? EGRESS_UNKNOWN_CLIENT;
    if (outcome.kind === 'error') return reportDecisionError(client, outcome);
    const target = outcome.target;
    if (outcome.kind === 'tunnel') {
      options.metrics.tunnelled(client);
      logger.debug('egress tunnel opened', { client, host: outcome.target.host, port: outcome.target.port });
      return;
    }
    if (outcome.kind === 'failed') options.metrics.upstreamFailed?.(client);
    else options.metrics.refused(client);
    const entry = { at: clock.now().toISOString(), client, host: target?.host ?? null, port: target?.port ?? null, reason: outcome.reason, source: outcome.source };
    options.refusals.append(entry).catch((error: unknown) => logger.error('egress refusal or failure not written to its log', { client, error }));
  };

  const bind = (proxy: EgressProxyServer, gateway: string, port: number) =>
    new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(port, gateway, () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });

  const start = async (gateway: string): Promise<EgressProxyServer> => {
    const proxy = createEgressProxyServer({
      authorize: (source, target) => authorize(gateway, source, target),
      // Another network's peers are cut at once: with the host firewall off they can reach this gateway,
      // and must not be able to fill the connection slots of this client's proxy.
      acceptsSource: (source) => ownerOf(source) === listeners.get(gateway),
      onOutcome: record,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.resolve ? { resolve: options.resolve } : {}),
      lookups: pool.share(options.limits?.maxLookups ?? DEFAULT_EGRESS_LIMITS.maxLookups),
    });
    try {
      await bind(proxy, gateway, options.port);
    } catch (error) {
      // Something else holds the port on this address (in tests: another orchestrator of the same process
      // whose client had this subnet before): any free port does, since the agent gets the URL returned.
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      logger.warn('egress proxy port taken on this gateway; using a free one', { gateway, port: options.port });
      await bind(proxy, gateway, 0);
    }
    // Never what keeps a process alive on its own (the orchestrator's API does; a test may forget to close).
    proxy.server.unref();
    return proxy;
  };

  const closeTunnels = (clientId: ClientId): number =>
    listenersOf(clientId).reduce((cut, listener) => cut + (listener.proxy?.cut(() => true) ?? 0), 0);

  const recheck = async (clientId: ClientId): Promise<number> => {
    const client = await currentClient(clientId);
    if (listenersOf(clientId).length === 0) return 0;
    if (client === null || !MAY_CONNECT.has(client.status)) return closeTunnels(clientId);
    const list = allowListOf(clientId, client.configYaml);
    return listenersOf(clientId).reduce((cut, listener) => cut + (listener.proxy?.cut((target) => !decideEgress(list, target).allow) ?? 0), 0);
  };

  // One sweep at a time: with the registry hung, sweeps must not pile reads up behind it.
  let sweeping = false;
  const sweep = async (): Promise<void> => {
    if (sweeping) return;
    sweeping = true;
    try {
      const holding = new Set([...listeners.values()].filter((entry) => (entry.proxy?.held ?? 0) > 0).map((entry) => entry.clientId));
      await Promise.all(
        [...holding].map(async (clientId) => {
          const cut = await recheck(clientId).catch((error: unknown) => {
            // Tunnels stay as they are: a registry that cannot answer is no reason to cut every client.
            logger.warn('egress tunnels not re-checked: the registry did not answer', { client: clientId, error });
            return 0;
          });
          if (cut > 0) logger.info('egress tunnels cut: no longer allowed', { client: clientId, cut });
        }),
      );
    } finally {
      sweeping = false;
    }
  };
  const sweeper = setInterval(() => void sweep(), options.recheckIntervalMs ?? 30_000);
  sweeper.unref();

  return {
    closeTunnels,
    recheck,
    listen(clientId, network) {
      options.metrics.serving(clientId);
      const existing = listeners.get(network.gateway);
      const subnet = parseIpv4Cidr(network.subnet);
      if (existing) {
        // A network (and so its gateway) can pass to another client after a deprovision: nothing the one
        // before opened may go on under the new client's name.
        const before = existing.clientId;
        if (before !== clientId) existing.proxy?.cut(() => true);
        existing.clientId = clientId;
        existing.subnet = subnet;
        if (before !== clientId) forgetListUnlessListening(before);
        return existing.url;
      }
      const listener: Listener = { clientId, subnet, url: Promise.resolve(''), proxy: null };
      listener.url = start(network.gateway).then((proxy) => {
        listener.proxy = proxy;
        const url = `http://${network.gateway}:${(proxy.server.address() as AddressInfo).port}`;
        logger.info('egress proxy listening', { client: clientId, url });
        return url;
      });
      listener.url.catch(() => listeners.delete(network.gateway));
      listeners.set(network.gateway, listener);
      return listener.url;
    },
    async release(clientId) {
      const gone = [...listeners].filter(([, listener]) => listener.clientId === clientId);
      for (const [gateway] of gone) listeners.delete(gateway);
      lists.forget(clientId);
      decisionErrorLines.forget(clientId);
      await Promise.all(gone.map(([, listener]) => listener.url.then(() => listener.proxy?.close(), () => undefined)));
    },
    async close() {
      clearInterval(sweeper);
      const all = [...listeners.values()];
      listeners.clear();
      lists.clear();
      await Promise.all(all.map((listener) => listener.url.then(() => listener.proxy?.close(), () => undefined)));
    },
  };
}

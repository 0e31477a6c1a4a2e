/** A mount of the agent's workload, as the runtime reports it. */
export interface MountFact {
  type: string;
  source: string;
  target: string;
  readOnly: boolean;
}

/** The agent's network as the runtime reports it. */
export interface NetworkFact {
  name: string;
  /** No route off the network (its gateway only). */
  internal: boolean;
  /** Containers on it cannot reach each other (Docker's enable_icc=false). */
  iccDisabled: boolean;
  /** Other containers on the network than the agent (and its own helpers). */
  strangers: string[];
  /**
   * The host firewall holds the network's rules (of the host only what is bound to its gateway is
   * reachable); null when the fleet runs without it (FLEET_HOST_FIREWALL=off, or not on Docker).
   */
  hostFenced: boolean | null;
}

/** How a client's agent actually runs, read back from the runtime (never from what was asked for). */
export interface IsolationFacts {
  workload: string;
  running: boolean;
  /** Whether the workload carries the client's managed labels of this fleet. */
  managed: boolean;
  user: string;
  capDrop: string[];
  capAdd: string[];
  privileged: boolean;
  noNewPrivileges: boolean;
  readOnlyRootfs: boolean;
  memoryBytes: number;
  memorySwapBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  mounts: MountFact[];
  /** Host addresses the workload's ports are published on. */
  publishedHostIps: string[];
  /** The networks the workload is attached to. */
  networks: string[];
  network: NetworkFact | null;
  /** The mail provider endpoint the agent was pointed at (an emulator in a sandbox); null: the provider's own. */
  mailEndpoint: string | null;
}

/** One finding of the isolation check: what was seen, and whether it holds. */
export interface IsolationFinding {
  ok: boolean;
  text: string;
}

/** What the fleet's agents are run with, to compare what the runtime reports against. */
export interface IsolationExpectation {
  /** The client's own volume (the only one an agent may mount). */
  volume: string;
  /** Agents reach out only through the egress proxy: their network must be internal. */
  internalNetwork: boolean;
}

const ROOT_USERS = new Set(['', '0', 'root', '0:0', 'root:root']);
const LOOPBACK = new Set(['127.0.0.1', '::1']);

/**
 * The checklist's "isolated instance", judged from the facts the runtime reports about the running agent:
 * non-root, every capability dropped and none added, no privilege escalation, a read-only root, memory
 * without swap, CPU and process limits, only its own volume and no Docker socket, ports on loopback only,
 * and its own network (internal, containers unable to reach each other, nobody else on it). Pure.
 */
export function evaluateIsolation(facts: IsolationFacts, expected: IsolationExpectation): IsolationFinding[] {
  const check = (ok: boolean, good: string, bad: string): IsolationFinding => ({ ok, text: ok ? good : bad });
  const foreignMounts = facts.mounts.filter((mount) => mount.source !== expected.volume);
  const socket = facts.mounts.some(
    (mount) => /docker\.sock$|containerd\.sock$/.test(mount.source) || /docker\.sock$/.test(mount.target),
  );
  const publicPorts = facts.publishedHostIps.filter((ip) => !LOOPBACK.has(ip));
  const network = facts.network;
  const findings = [
    check(
      facts.managed,
      `${facts.workload} is the client's workload of this fleet`,
      `${facts.workload} does not carry this fleet's labels for the client`,
    ),
    check(facts.running, 'running', 'not running'),
    check(
      !ROOT_USERS.has(facts.user.trim()) && !/^0:|^root:/.test(facts.user),
      `non-root user ${facts.user}`,
      `runs as root (user "${facts.user}")`,
    ),
    check(
      facts.capDrop.map((cap) => cap.toUpperCase()).includes('ALL'),
      'all capabilities dropped',
      'capabilities not dropped (CapDrop lacks ALL)',
    ),
    check(facts.capAdd.length === 0, 'no capability added', `capabilities added: ${facts.capAdd.join(', ')}`),
    check(!facts.privileged, 'not privileged', 'privileged'),
    check(facts.noNewPrivileges, 'no-new-privileges', 'no-new-privileges not set'),
    check(facts.readOnlyRootfs, 'read-only root filesystem', 'root filesystem writable'),
    check(
      facts.memoryBytes > 0 && facts.memorySwapBytes === facts.memoryBytes,
      `memory limited to ${Math.round(facts.memoryBytes / 1048576)} MiB without swap`,
      facts.memoryBytes > 0 ? 'swap allowed beyond the memory limit' : 'no memory limit',
    ),
    check(facts.nanoCpus > 0, `CPU limited to ${(facts.nanoCpus / 1e9).toFixed(2)} cores`, 'no CPU limit'),
    check(facts.pidsLimit > 0, `at most ${facts.pidsLimit} processes`, 'no process limit'),
    check(
      foreignMounts.length === 0 && !socket,
      `only its own volume ${expected.volume} mounted`,
      `other mounts: ${foreignMounts.map((mount) => `${mount.source}:${mount.target}`).join(', ')}`,
    ),
    check(
      publicPorts.length === 0,
      'ports published on loopback only',
      `ports published on ${publicPorts.map((ip) => ip || 'every address').join(', ')}`,
    ),
  ];
  if (network === null) return [...findings, check(false, '', 'no network of its own')];
  const ownOnly = facts.networks.length === 1 && facts.networks[0] === network.name;
  return [
    ...findings,
    check(
      ownOnly,
      `only on its own network ${network.name}`,
      `attached to ${facts.networks.join(', ') || 'no network'}`,
    ),
    ...(expected.internalNetwork
      ? [
          check(
            network.internal,
            'network internal (out only through the egress proxy)',
            'network not internal: routes anywhere',
          ),
        ]
      : []),
    check(
      network.iccDisabled,
      'containers on the network cannot reach each other',
      'inter-container traffic allowed on its network',
    ),
    check(
      network.strangers.length === 0,
      'no other container on its network',
      `other containers on its network: ${network.strangers.join(', ')}`,
    ),
    ...(network.hostFenced === null
      ? []
      : [
          check(
            network.hostFenced,
            "of the host only what is bound to its gateway is reachable (the host firewall's rules for its bridge)",
            'the host firewall has no rules for its bridge: services on the host are reachable from it (restart the orchestrator)',
          ),
        ]),
  ];
}

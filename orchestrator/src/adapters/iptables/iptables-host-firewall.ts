import { readdir, readFile } from 'node:fs/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import {
  CLIENT_INPUT_CHAIN,
  bridgeInputRules,
  chainRules,
  chainUpdateScript,
  holdsBridge,
  jumpFirstLines,
  jumpsFirst,
  rulesByBridge,
  sameRules,
  type BridgeAdmission,
} from '../../domain/host-input-rules.ts';
import type { HostFirewall } from '../../ports/host-firewall.ts';
import type { CommandResult, CommandRunner } from '../process/command-runner.ts';

/** The host's interfaces, by the IPv4 addresses they hold. */
export interface HostInterfaces {
  /** The interface holding `address` (a client network's gateway is its bridge's address). */
  holding(address: string): Promise<string | undefined>;
  names(): Promise<ReadonlySet<string>>;
}

/**
 * The host's interfaces as the kernel has them, down or up (`os.networkInterfaces()` leaves out one that
 * is not running, which a new bridge is until its first container starts): a gateway's bridge is the
 * interface of the directly connected route to the gateway's subnet, read from `/proc/net/route` (a file
 * read on the provisioning path, where `ip address show` cost a process).
 */
export function systemInterfaces(readRoutes: () => Promise<string> = () => readFile('/proc/net/route', 'utf8')): HostInterfaces {
  return {
    async holding(address) {
      return connectedInterface(await readRoutes(), address);
    },
    async names() {
      return new Set(await readdir('/sys/class/net'));
    },
  };
}

/**
 * The interface of the most specific directly connected (gateway 0) route whose network holds `address`,
 * from the kernel's IPv4 routing table as `/proc/net/route` prints it (addresses in host byte order hex,
 * which is little-endian here). Pure.
 */
export function connectedInterface(routes: string, address: string): string | undefined {
  const target = ipv4Number(address);
  if (target === undefined) return undefined;
  let best: { name: string; prefix: number } | undefined;
  for (const line of routes.split('\n').slice(1)) {
    const [name, destination, gateway, , , , , mask] = line.trim().split(/\s+/);
    if (name === undefined || destination === undefined || gateway === undefined || mask === undefined) continue;
    const network = littleEndianHex(destination);
    const netmask = littleEndianHex(mask);
    if (network === undefined || netmask === undefined || littleEndianHex(gateway) !== 0 || netmask === 0) continue;
    if (((target & netmask) >>> 0) !== network) continue;
    const prefix = countBits(netmask);
    if (best === undefined || prefix > best.prefix) best = { name, prefix };
  }
  return best?.name;
}

function ipv4Number(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function littleEndianHex(hex: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const bytes = hex.match(/../g)!.map((byte) => parseInt(byte, 16));
  return ((bytes[3]! << 24) | (bytes[2]! << 16) | (bytes[1]! << 8) | bytes[0]!) >>> 0;
}

function countBits(value: number): number {
  let count = 0;
  for (let rest = value >>> 0; rest !== 0; rest = (rest & (rest - 1)) >>> 0) count++;
  return count;
}

interface Pending {
  admission: BridgeAdmission;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// iptables-restore fails as a whole when another process changed the chain since it was read.
const ATTEMPTS = 3;
const RESTORE_ARGS = ['-w', '--noflush'];

/**
 * The client networks' host firewall with iptables (`host-input-rules.ts` says what it holds). Confinements
 * asked for while the chain is being written share the next write: twenty clients provisioned at once cost
 * a few writes, not twenty.
 */
export class IptablesHostFirewall implements HostFirewall {
  private readonly runner: CommandRunner;
  private readonly interfaces: HostInterfaces;
  private pending: Pending[] = [];
  private writing: Promise<void> | null = null;
  private chainReady: Promise<void> | null = null;
  /**
   * The chain's rules per bridge as this process last read or wrote them; null until it first read them.
   * A bridge missing from it is a network made since (its name is new), whose rules are appended without
   * reading the chain again: one command on the provisioning path instead of three.
   */
  private known: Map<string, string[]> | null = null;

  constructor(runner: CommandRunner, interfaces: HostInterfaces = systemInterfaces()) {
    this.runner = runner;
    this.interfaces = interfaces;
  }

  async confine(clientId: ClientId, network: { gateway: string }): Promise<void> {
    const bridge = await this.interfaces.holding(network.gateway);
    if (bridge === undefined) {
      throw new FleetError('conflict', `the network of ${clientId}: no interface of this host holds its gateway ${network.gateway}`);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ admission: { bridge, gateway: network.gateway }, resolve, reject });
      this.writing ??= this.writeWhilePending();
    });
  }

  async confines(network: { gateway: string }): Promise<boolean> {
    const bridge = await this.interfaces.holding(network.gateway);
    if (bridge === undefined) return false;
    if (!jumpsFirst((await this.iptables(['-w', '-S', 'INPUT'])).stdout)) return false;
    const listing = await this.runner.run('iptables', ['-w', '-S', CLIENT_INPUT_CHAIN]).catch(cannotRun('iptables'));
    return listing.code === 0 && holdsBridge(listing.stdout, { bridge, gateway: network.gateway });
  }

  private async writeWhilePending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        await this.write(batch.map((entry) => entry.admission));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.writing = null;
  }

  private async write(admissions: BridgeAdmission[]): Promise<void> {
    await this.ensureChain();
    const known = this.known;
    const wanted = admissions.map((admission) => ({ bridge: admission.bridge, rules: bridgeInputRules(admission) }));
    const changed = wanted.filter(({ bridge, rules }) => !sameRules(known?.get(bridge), rules));
    if (changed.length === 0) return;
    if (known !== null && changed.every(({ bridge }) => !known.has(bridge))) {
      const appended = await this.restore(changed.flatMap(({ rules }) => rules));
      if (appended.code === 0) {
        for (const { bridge, rules } of changed) known.set(bridge, rules);
        return;
      }
    }
    for (let attempt = 1; ; attempt++) {
      const listing = await this.iptables(['-w', '-S', CLIENT_INPUT_CHAIN]);
      const script = chainUpdateScript(listing.stdout, admissions, await this.interfaces.names());
      const result = script === null ? null : await this.runner.run('iptables-restore', RESTORE_ARGS, { stdin: script });
      if (result === null || result.code === 0) {
        this.known = rulesByBridge(chainRules(listing.stdout));
        for (const { bridge, rules } of wanted) this.known.set(bridge, rules);
        return;
      }
      if (attempt === ATTEMPTS) throw refused('iptables-restore', result);
    }
  }

  /**
   * The chain, jumped to first from INPUT (moved back to the top if a rule was put before it, which could
   * accept what the chain drops); made once per process (again after a failure).
   */
  private ensureChain(): Promise<void> {
    this.chainReady ??= (async () => {
      const created = await this.runner.run('iptables', ['-w', '-N', CLIENT_INPUT_CHAIN]).catch(cannotRun('iptables'));
      if (created.code !== 0 && !/already exists/i.test(created.stderr)) throw refused('iptables -N', created);
      const lines = jumpFirstLines((await this.iptables(['-w', '-S', 'INPUT'])).stdout);
      if (lines.length === 0) return;
      const result = await this.restore(lines);
      if (result.code !== 0) throw refused('iptables-restore', result);
    })();
    this.chainReady.catch(() => {
      this.chainReady = null;
    });
    return this.chainReady;
  }

  /** Applies rule lines to the filter table in one transaction, leaving every other rule as it is. */
  private restore(lines: readonly string[]): Promise<CommandResult> {
    return this.runner.run('iptables-restore', RESTORE_ARGS, { stdin: ['*filter', ...lines, 'COMMIT', ''].join('\n') });
  }

  private async iptables(args: string[]): Promise<CommandResult> {
    const result = await this.runner.run('iptables', args).catch(cannotRun('iptables'));
    if (result.code !== 0) throw refused(`iptables ${args.filter((arg) => arg !== '-w').slice(0, 2).join(' ')}`, result);
    return result;
  }
}

const REMEDY =
  'run the orchestrator as root (it manages the bridges of Docker networks), or set FLEET_HOST_FIREWALL=off and keep the host\'s services off the client networks yourself';

function refused(what: string, result: CommandResult): FleetError {
  const reason = result.stderr.trim().split('\n')[0] || `exit code ${result.code}`;
  return new FleetError('unavailable', `cannot fence client networks off the host's services (${what}: ${reason}): ${REMEDY}`);
}

function cannotRun(command: string) {
  return (error: unknown): never => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FleetError('unavailable', `cannot fence client networks off the host's services (cannot run ${command}: ${reason}): ${REMEDY}`, { cause: error });
  };
}

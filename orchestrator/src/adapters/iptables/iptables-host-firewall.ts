import { readdir } from 'node:fs/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { CLIENT_INPUT_CHAIN, INPUT_JUMP_RULE, chainUpdateScript, holdsBridge, jumpsFirst, type BridgeAdmission } from '../../domain/host-input-rules.ts';
import type { HostFirewall } from '../../ports/host-firewall.ts';
import type { CommandResult, CommandRunner } from '../process/command-runner.ts';

/** The host's interfaces, by the IPv4 addresses they hold. */
export interface HostInterfaces {
  /** The interface holding `address` (a client network's gateway is its bridge's address). */
  holding(address: string): Promise<string | undefined>;
  names(): Promise<ReadonlySet<string>>;
}

/**
 * The host's interfaces as the kernel has them, down or up: `os.networkInterfaces()` leaves out an
 * interface that is not running, which a new bridge is until its first container starts.
 */
export function systemInterfaces(runner: CommandRunner): HostInterfaces {
  return {
    async holding(address) {
      const result = await runner.run('ip', ['-o', '-4', 'address', 'show', 'to', address]).catch(cannotRun('ip'));
      if (result.code !== 0) throw refused('ip address show', result);
      // "5: br-0123456789ab    inet 10.213.0.1/24 brd … scope global br-0123456789ab\ …"
      return /^\d+:\s+([^\s@:]+)/.exec(result.stdout)?.[1];
    },
    async names() {
      return new Set(await readdir('/sys/class/net'));
    },
  };
}

interface Pending {
  admission: BridgeAdmission;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// iptables-restore fails as a whole when another process changed the chain since it was read.
const ATTEMPTS = 3;

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

  constructor(runner: CommandRunner, interfaces: HostInterfaces = systemInterfaces(runner)) {
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
    for (let attempt = 1; ; attempt++) {
      const listing = await this.iptables(['-w', '-S', CLIENT_INPUT_CHAIN]);
      const script = chainUpdateScript(listing.stdout, admissions, await this.interfaces.names());
      if (script === null) return;
      const result = await this.runner.run('iptables-restore', ['-w', '--noflush'], { stdin: script });
      if (result.code === 0) return;
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
      const input = (await this.iptables(['-w', '-S', 'INPUT'])).stdout;
      if (jumpsFirst(input)) return;
      const script = ['*filter', ...(input.split('\n').some((line) => line.trim() === INPUT_JUMP_RULE) ? [INPUT_JUMP_RULE.replace('-A ', '-D ')] : []), INPUT_JUMP_RULE.replace('-A INPUT', '-I INPUT 1'), 'COMMIT', ''];
      const result = await this.runner.run('iptables-restore', ['-w', '--noflush'], { stdin: script.join('\n') });
      if (result.code !== 0) throw refused('iptables-restore', result);
    })();
    this.chainReady.catch(() => {
      this.chainReady = null;
    });
    return this.chainReady;
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

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { IptablesHostFirewall, connectedInterface, systemInterfaces, type HostInterfaces } from '../../../orchestrator/src/adapters/iptables/iptables-host-firewall.ts';
import type { CommandResult, CommandRunner, CommandRunOptions } from '../../../orchestrator/src/adapters/process/command-runner.ts';
import { CHAIN_HEAD_RULE } from '../../../orchestrator/src/domain/host-input-rules.ts';

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
const failed = (stderr: string): CommandResult => ({ code: 1, stdout: '', stderr });

/**
 * The filter table as iptables keeps it, for the commands the firewall runs: `-N`, `-C`/`-I` on INPUT,
 * `-S`, and `iptables-restore --noflush` scripts applied all or nothing (a `-D` of a rule that is not
 * there fails the whole script, as the real one does).
 */
class FakeIptables implements CommandRunner {
  chains = new Map<string, string[]>([['INPUT', []]]);
  calls: string[] = [];
  /** Runs once between the chain's next listing and the script after it: another process changing the chain. */
  interleave: (() => void) | null = null;
  denied = false;

  run(command: string, args: readonly string[], options: CommandRunOptions = {}): Promise<CommandResult> {
    this.calls.push([command, ...args].join(' '));
    if (this.denied) return Promise.resolve({ code: 4, stdout: '', stderr: 'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n' });
    if (command === 'iptables-restore') return Promise.resolve(this.restore(options.stdin ?? ''));
    const [, flag, chain, ...rest] = args;
    if (flag === '-N') {
      if (this.chains.has(chain!)) return Promise.resolve(failed('iptables: Chain already exists.\n'));
      this.chains.set(chain!, []);
      return Promise.resolve(ok());
    }
    if (flag === '-C') return Promise.resolve(this.chains.get(chain!)!.includes(`-A ${chain} ${rest.join(' ')}`) ? ok() : failed('iptables: Bad rule.\n'));
    if (flag === '-I') {
      this.chains.get(chain!)!.splice(Number(rest[0]) - 1, 0, `-A ${chain} ${rest.slice(1).join(' ')}`);
      return Promise.resolve(ok());
    }
    if (flag === '-S') {
      const listing = [`-N ${chain}`, ...this.chains.get(chain!)!].join('\n') + '\n';
      const interleave = chain === 'AGENT-FLEET-INPUT' ? this.interleave : null;
      if (interleave !== null) this.interleave = null;
      interleave?.();
      return Promise.resolve(ok(listing));
    }
    return Promise.resolve(failed(`unexpected ${args.join(' ')}`));
  }

  private restore(script: string): CommandResult {
    const copy = new Map([...this.chains].map(([name, rules]) => [name, [...rules]]));
    for (const line of script.split('\n').filter((entry) => entry.startsWith('-'))) {
      const [flag, chain, ...rest] = line.split(' ');
      const rules = copy.get(chain!)!;
      if (flag === '-D') {
        const at = rules.indexOf(`-A ${chain} ${rest.join(' ')}`);
        if (at < 0) return failed('iptables-restore: line 2 failed: Bad rule (does a matching rule exist in that chain?).\n');
        rules.splice(at, 1);
      } else if (flag === '-I') rules.splice(Number(rest[0]) - 1, 0, `-A ${chain} ${rest.slice(1).join(' ')}`);
      else rules.push(line);
    }
    this.chains = copy;
    return ok();
  }

  count(command: string): number {
    return this.calls.filter((call) => call.startsWith(`${command} `)).length;
  }
}

function interfaces(bridges: Record<string, string>): HostInterfaces {
  return { holding: (address) => Promise.resolve(bridges[address]), names: () => Promise.resolve(new Set(Object.values(bridges))) };
}

const acme = 'acme' as ClientId;

void test('the first confinement makes the chain, jumps to it first from INPUT and writes the head and the bridge', async () => {
  const iptables = new FakeIptables();
  iptables.chains.get('INPUT')!.push('-A INPUT -i lo -j ACCEPT');
  const firewall = new IptablesHostFirewall(iptables, interfaces({ '10.213.0.1': 'br-0123456789ab' }));
  await firewall.confine(acme, { gateway: '10.213.0.1' });
  assert.deepEqual(iptables.chains.get('INPUT'), ['-A INPUT -j AGENT-FLEET-INPUT', '-A INPUT -i lo -j ACCEPT']);
  assert.deepEqual(iptables.chains.get('AGENT-FLEET-INPUT'), [
    CHAIN_HEAD_RULE,
    '-A AGENT-FLEET-INPUT -d 10.213.0.1/32 -i br-0123456789ab -p tcp -m socket -j RETURN',
    '-A AGENT-FLEET-INPUT -i br-0123456789ab -j DROP',
  ]);
  // Again (an orchestrator restart re-confines every live client): nothing is written twice.
  await new IptablesHostFirewall(iptables, interfaces({ '10.213.0.1': 'br-0123456789ab' })).confine(acme, { gateway: '10.213.0.1' });
  assert.equal(iptables.chains.get('INPUT')!.length, 2);
  assert.equal(iptables.chains.get('AGENT-FLEET-INPUT')!.length, 3);
  assert.equal(iptables.count('iptables-restore'), 2, 'the jump and the chain once; the second time both already matched');
});

void test('twenty clients confined at once share a few writes, and each gets its own rules', async () => {
  const iptables = new FakeIptables();
  const bridges = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`10.213.${index}.1`, `br-${String(index).padStart(12, '0')}`]));
  const firewall = new IptablesHostFirewall(iptables, interfaces(bridges));
  await Promise.all(Object.keys(bridges).map((gateway, index) =>
    firewall.confine(`c${index}` as ClientId, { gateway }),
  ));
  assert.ok(iptables.count('iptables-restore') <= 3, `${iptables.count('iptables-restore')} writes (one of them the jump)`);
  const rules = iptables.chains.get('AGENT-FLEET-INPUT')!;
  assert.equal(rules.length, 1 + 20 * 2);
  for (const [gateway, bridge] of Object.entries(bridges)) {
    assert.ok(rules.includes(`-A AGENT-FLEET-INPUT -d ${gateway}/32 -i ${bridge} -p tcp -m socket -j RETURN`));
    assert.ok(rules.includes(`-A AGENT-FLEET-INPUT -i ${bridge} -j DROP`));
  }
});

void test('a chain another process changed between the listing and the write is read again, and nothing of its change is lost', async () => {
  const iptables = new FakeIptables();
  const bridges = { '10.213.0.1': 'br-aaaaaaaaaaaa', '10.213.1.1': 'br-bbbbbbbbbbbb', '10.99.0.1': 'br-cccccccccccc' };
  const firewall = new IptablesHostFirewall(iptables, interfaces(bridges));
  await firewall.confine(acme, { gateway: '10.213.0.1' });
  // Someone removed acme's DROP rule; the orchestrator restarts; meanwhile (after its listing) another
  // fleet adds its own bridge and takes acme's other rule away.
  iptables.chains.get('AGENT-FLEET-INPUT')!.splice(2, 1);
  const restarted = new IptablesHostFirewall(iptables, interfaces(bridges));
  iptables.interleave = () => {
    iptables.chains.get('AGENT-FLEET-INPUT')!.push('-A AGENT-FLEET-INPUT -i br-cccccccccccc -j DROP');
    iptables.chains.get('AGENT-FLEET-INPUT')!.splice(1, 1);
  };
  await restarted.confine(acme, { gateway: '10.213.0.1' });
  assert.deepEqual(iptables.chains.get('AGENT-FLEET-INPUT'), [
    CHAIN_HEAD_RULE,
    '-A AGENT-FLEET-INPUT -i br-cccccccccccc -j DROP',
    '-A AGENT-FLEET-INPUT -d 10.213.0.1/32 -i br-aaaaaaaaaaaa -p tcp -m socket -j RETURN',
    '-A AGENT-FLEET-INPUT -i br-aaaaaaaaaaaa -j DROP',
  ]);
  assert.equal(iptables.count('iptables-restore'), 4, 'the jump, the first confinement, and the write from the stale listing made again');
});

void test('a network made after the chain was read costs one command: its rules appended; one already so costs none', async () => {
  const iptables = new FakeIptables();
  const bridges = { '10.213.0.1': 'br-aaaaaaaaaaaa', '10.213.1.1': 'br-bbbbbbbbbbbb' };
  const firewall = new IptablesHostFirewall(iptables, interfaces(bridges));
  await firewall.confine(acme, { gateway: '10.213.0.1' });
  const before = iptables.calls.length;
  await firewall.confine('beta' as ClientId, { gateway: '10.213.1.1' });
  assert.deepEqual(iptables.calls.slice(before), ['iptables-restore -w --noflush']);
  await firewall.confine(acme, { gateway: '10.213.0.1' });
  assert.equal(iptables.calls.length, before + 1, 'confined again (a reconcile): nothing run');
  assert.deepEqual(iptables.chains.get('AGENT-FLEET-INPUT')!.slice(-2), [
    '-A AGENT-FLEET-INPUT -d 10.213.1.1/32 -i br-bbbbbbbbbbbb -p tcp -m socket -j RETURN',
    '-A AGENT-FLEET-INPUT -i br-bbbbbbbbbbbb -j DROP',
  ]);
});

void test('a rule put before the jump is moved behind it at the next start, and `confines` tells a confined network from one that is not', async () => {
  const iptables = new FakeIptables();
  const bridges = { '10.213.0.1': 'br-aaaaaaaaaaaa', '10.213.1.1': 'br-bbbbbbbbbbbb' };
  await new IptablesHostFirewall(iptables, interfaces(bridges)).confine(acme, { gateway: '10.213.0.1' });
  iptables.chains.get('INPUT')!.unshift('-A INPUT -i br-aaaaaaaaaaaa -j ACCEPT');
  const restarted = new IptablesHostFirewall(iptables, interfaces(bridges));
  assert.equal(await restarted.confines({ gateway: '10.213.0.1' }), false, 'an ACCEPT before the chain would let everything through');
  await restarted.confine(acme, { gateway: '10.213.0.1' });
  assert.deepEqual(iptables.chains.get('INPUT'), ['-A INPUT -j AGENT-FLEET-INPUT', '-A INPUT -i br-aaaaaaaaaaaa -j ACCEPT']);
  assert.equal(await restarted.confines({ gateway: '10.213.0.1' }), true);
  assert.equal(await restarted.confines({ gateway: '10.213.1.1' }), false, 'a bridge never confined');
  assert.equal(await restarted.confines({ gateway: '10.77.0.1' }), false, 'no bridge holds that gateway');
  iptables.chains.get('AGENT-FLEET-INPUT')!.pop();
  assert.equal(await restarted.confines({ gateway: '10.213.0.1' }), false, 'its DROP rule removed');
});

void test('without the right to change the firewall, or without a bridge holding the gateway, confining fails and says what to do', async () => {
  const iptables = new FakeIptables();
  iptables.denied = true;
  const firewall = new IptablesHostFirewall(iptables, interfaces({ '10.213.0.1': 'br-aaaaaaaaaaaa' }));
  await assert.rejects(
    firewall.confine(acme, { gateway: '10.213.0.1' }),
    (error: Error & { code?: string }) =>
      error.code === 'unavailable' && /Permission denied/.test(error.message) && /run the orchestrator as root/.test(error.message) && /FLEET_HOST_FIREWALL=off/.test(error.message),
  );
  iptables.denied = false;
  await firewall.confine(acme, { gateway: '10.213.0.1' });
  assert.deepEqual(iptables.chains.get('INPUT'), ['-A INPUT -j AGENT-FLEET-INPUT'], 'the chain is made once allowed (the failure is not remembered)');
  await assert.rejects(firewall.confine(acme, { gateway: '10.77.0.1' }), /no interface of this host holds its gateway 10\.77\.0\.1/);
});

void test('iptables not installed: a clear error', async () => {
  const missing: CommandRunner = { run: () => Promise.reject(Object.assign(new Error('spawn iptables ENOENT'), { code: 'ENOENT' })) };
  const firewall = new IptablesHostFirewall(missing, interfaces({ '10.213.0.1': 'br-aaaaaaaaaaaa' }));
  await assert.rejects(firewall.confine(acme, { gateway: '10.213.0.1' }), /cannot run iptables: spawn iptables ENOENT/);
});

void test("the bridge holding a gateway is the interface of the connected route to its subnet (a bridge with no container yet is down, and still routed)", async () => {
  const routes = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'br-4d5e1d6c4d54\t0009FA0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'br-0123456789ab\t0000FA0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  assert.equal(connectedInterface(routes, '10.250.9.1'), 'br-4d5e1d6c4d54', 'the most specific route');
  assert.equal(connectedInterface(routes, '10.250.10.1'), 'br-0123456789ab');
  assert.equal(connectedInterface(routes, '172.17.0.1'), 'docker0');
  assert.equal(connectedInterface(routes, '8.8.8.8'), undefined, 'the default route is not a connected network');
  assert.equal(connectedInterface(routes, 'not-an-address'), undefined);
  const host = systemInterfaces(() => Promise.resolve(routes));
  assert.equal(await host.holding('10.250.9.1'), 'br-4d5e1d6c4d54');
  assert.ok((await host.names()).has('lo'));
});

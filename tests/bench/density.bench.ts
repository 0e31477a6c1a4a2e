/**
 * Idle agent memory with 10 and then 100 agents running on one host, all provisioned through the
 * orchestrator (10 at a time) and all healthy. Prints one JSON document. Target (issue 18): at most 40 MiB
 * per idle agent (p95), and 100 agents healthy; also computed: how many idle agents this host holds with
 * 20 % of its memory left free, from the measured p95.
 *
 * Memory per agent is read from its memory cgroup. The headline figure is `rss + mapped_file` from
 * memory.stat (cgroup v1; `anon + file_mapped` on v2): anonymous memory (heaps, stacks) plus the file
 * pages the processes have mapped (the node binary's text), i.e. the resident set of the container's
 * processes. Page cache the agent merely read once is not counted, since the kernel drops it under pressure.
 * Also reported: usage minus inactive file pages, which is what `docker stats` shows.
 * Env: DENSITY_BENCH_STEPS (default "10,100"), DENSITY_BENCH_SETTLE_SECONDS (default 15),
 * DENSITY_BENCH_DEADLINE_SECONDS (default 900), AGENT_IMAGE (default agent-fleet/agent:<version>).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { HttpAgentHealthProbe } from '../../orchestrator/src/adapters/http/http-agent-health-probe.ts';
import { createFleetFixture, docker, removeClientResources, uniqueClientId, type FleetFixture } from '../helpers/fleet-fixture.ts';

const STEPS = (process.env['DENSITY_BENCH_STEPS'] ?? '10,100').split(',').map(Number);
const SETTLE_MS = Number(process.env['DENSITY_BENCH_SETTLE_SECONDS'] ?? 15) * 1000;
const DEADLINE_MS = Number(process.env['DENSITY_BENCH_DEADLINE_SECONDS'] ?? 900) * 1000;
const BATCH = 10;
const MIB = 1024 * 1024;
const TARGET_MIB = 40;
const HEADROOM = 0.2;
/** Memory in use on the host before any agent of this run: the orchestrator, the engine, everything else. */
const usedBeforeMiB = (os.totalmem() - os.freemem()) / MIB;

let probe: HttpAgentHealthProbe;
const clients: ClientId[] = [];
const controlAddresses = new Map<ClientId, string>();
let fleet: FleetFixture | undefined;
const startedAt = performance.now();

interface AgentMemory {
  rssPlusMappedMiB: number;
  anonMiB: number;
  usageMinusInactiveFileMiB: number;
}

function parseStat(text: string): Map<string, number> {
  return new Map(text.split('\n').filter(Boolean).map((line) => {
    const [key, value] = line.split(' ');
    return [key ?? '', Number(value)];
  }));
}

/** Memory of one container from its cgroup: v1 (cgroupfs or systemd driver), else v2. */
async function containerMemory(id: string): Promise<AgentMemory> {
  const v1 = [`/sys/fs/cgroup/memory/docker/${id}`, `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope`];
  for (const directory of v1) {
    let stat: Map<string, number>;
    try {
      stat = parseStat(await readFile(`${directory}/memory.stat`, 'utf8'));
    } catch {
      continue;
    }
    const usage = Number(await readFile(`${directory}/memory.usage_in_bytes`, 'utf8'));
    const rss = stat.get('total_rss') ?? stat.get('rss') ?? 0;
    const mapped = stat.get('total_mapped_file') ?? stat.get('mapped_file') ?? 0;
    const inactiveFile = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0;
    return { rssPlusMappedMiB: (rss + mapped) / MIB, anonMiB: rss / MIB, usageMinusInactiveFileMiB: (usage - inactiveFile) / MIB };
  }
  for (const directory of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
    let stat: Map<string, number>;
    try {
      stat = parseStat(await readFile(`${directory}/memory.stat`, 'utf8'));
    } catch {
      continue;
    }
    const usage = Number(await readFile(`${directory}/memory.current`, 'utf8'));
    const anon = stat.get('anon') ?? 0;
    return {
      rssPlusMappedMiB: (anon + (stat.get('file_mapped') ?? 0)) / MIB,
      anonMiB: anon / MIB,
      usageMinusInactiveFileMiB: (usage - (stat.get('inactive_file') ?? 0)) / MIB,
    };
  }
  throw new Error(`no memory cgroup found for container ${id}`);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const round = (value: number) => Math.round(value * 10) / 10;

function checkDeadline(): void {
  if (performance.now() - startedAt > DEADLINE_MS) throw new Error(`density bench exceeded its ${DEADLINE_MS / 1000} s deadline`);
}

async function provisionUpTo(total: number): Promise<{ ms: number; failures: string[] }> {
  const started = performance.now();
  const failures: string[] = [];
  while (clients.length < total) {
    checkDeadline();
    const batch = Array.from({ length: Math.min(BATCH, total - clients.length) }, () => uniqueClientId('bd'));
    clients.push(...batch);
    const results = await Promise.allSettled(batch.map((clientId) => fleet!.orchestrator.provision.provision({ clientId, actor: 'bench' })));
    results.forEach((result, index) => {
      if (result.status === 'rejected') failures.push(`${batch[index]}: ${(result.reason as Error).message}`);
      else if (result.value.outcome === 'provisioned') controlAddresses.set(batch[index]!, result.value.controlAddress);
    });
  }
  return { ms: performance.now() - started, failures };
}

async function measure(count: number, provisioning: { ms: number; failures: string[] }) {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS)); // idle: boot garbage collected, nothing to do
  const healthy = await Promise.all([...controlAddresses].map(([clientId, address]) => probe.isHealthy(clientId, address)));
  const memories: AgentMemory[] = [];
  for (const clientId of controlAddresses.keys()) {
    const info = await docker.getContainer(resourceNames(clientId).container).inspect();
    memories.push(await containerMemory(info.Id));
  }
  const headline = memories.map((memory) => memory.rssPlusMappedMiB);
  const summary = (values: number[]) => ({ mean: round(values.reduce((sum, value) => sum + value, 0) / values.length), p95: round(percentile(values, 95)), max: round(Math.max(...values)) });
  return {
    agents: count,
    provisioned: controlAddresses.size,
    healthy: healthy.filter(Boolean).length,
    allHealthy: healthy.length === count && healthy.every(Boolean),
    provisionFailures: provisioning.failures,
    provisionSeconds: round(provisioning.ms / 1000),
    perAgentMiB: {
      rssPlusMappedFile: summary(headline),
      anonymousOnly: summary(memories.map((memory) => memory.anonMiB)),
      dockerStatsFigure: summary(memories.map((memory) => memory.usageMinusInactiveFileMiB)),
    },
    totalMiB: round(headline.reduce((sum, value) => sum + value, 0)),
    hostAvailableMiB: round(os.freemem() / MIB),
    hostCapacity: capacity(percentile(headline, 95)),
    meetsTarget: healthy.length === count && healthy.every(Boolean) && percentile(headline, 95) <= TARGET_MIB,
  };
}

/** Idle agents this host holds at `perAgentMiB` each, keeping HEADROOM of its memory free. */
function capacity(perAgentMiB: number) {
  const totalMiB = os.totalmem() / MIB;
  const budgetMiB = totalMiB * (1 - HEADROOM);
  return {
    hostMemoryMiB: round(totalMiB),
    headroom: HEADROOM,
    perAgentP95MiB: round(perAgentMiB),
    maxIdleAgents: Math.floor(budgetMiB / perAgentMiB),
    maxIdleAgentsBesidesWhatRanBefore: Math.floor((budgetMiB - usedBeforeMiB) / perAgentMiB),
    usedBeforeAgentsMiB: round(usedBeforeMiB),
    formula: 'floor((host memory × 0.8 [− memory in use before this run’s agents]) / p95 per idle agent)',
  };
}

async function cleanup(): Promise<void> {
  if (fleet) {
    for (let index = 0; index < clients.length; index += BATCH) {
      await Promise.all(
        clients.slice(index, index + BATCH).map((clientId) =>
          fleet!.orchestrator.deprovision.deprovision({ clientId, purge: true, actor: 'bench' }).catch(() => undefined),
        ),
      );
    }
  }
  await removeClientResources(clients).catch(() => undefined);
  if (fleet) await fleet.cleanup(clients).catch(() => undefined);
}

process.once('SIGINT', () => {
  process.stderr.write('interrupted: removing every agent this benchmark created\n');
  void cleanup().finally(() => process.exit(130));
});

async function main() {
  fleet = await createFleetFixture({
    AGENT_HEALTH_TIMEOUT_SECONDS: '120',
    ...(process.env['AGENT_IMAGE'] ? { AGENT_IMAGE: process.env['AGENT_IMAGE'] } : {}),
  });
  probe = new HttpAgentHealthProbe({ caPem: fleet.orchestrator.tls.ca.certificatePem, timeoutMs: 2000 });
  const results = [];
  for (const count of STEPS) {
    const provisioning = await provisionUpTo(count);
    checkDeadline();
    results.push(await measure(count, provisioning));
  }
  const engine = await docker.version();
  console.log(
    JSON.stringify(
      {
        bench: 'density',
        host: { cpus: os.cpus().length, memoryMiB: round(os.totalmem() / MIB), engine: engine.Version, loadAverage: os.loadavg().map(round) },
        image: fleet.config.agent.image,
        agentLimits: { memoryMiB: fleet.config.agent.memoryBytes / MIB, cpus: fleet.config.agent.nanoCpus / 1e9 },
        settleSeconds: SETTLE_MS / 1000,
        memorySource: 'memory cgroup: rss + mapped_file (v1) / anon + file_mapped (v2); dockerStatsFigure = usage - inactive_file',
        steps: results,
        target: `at most ${TARGET_MIB} MiB per idle agent (p95 of rss + mapped_file), all agents healthy`,
        meetsTarget: results.every((result) => result.meetsTarget),
        totalSeconds: round((performance.now() - startedAt) / 1000),
      },
      null,
      2,
    ),
  );
}

try {
  await main();
} finally {
  await cleanup();
}

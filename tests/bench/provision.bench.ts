/**
 * Provisioning latency through the orchestrator, per saga step and end to end (p50, p95), for one client
 * at a time and for 20 at once, side by side in the same run with a bare `docker run -d` of the same image
 * (default bridge, no hardening, config and a TLS identity bind-mounted read-only) timed until its /healthz
 * answers, polled like the orchestrator polls (same backoff, same probe), both without a CPU quota and
 * under the agents' default one. Prints one JSON document.
 * Targets (issue 18): end to end p50 within 1.2× the bare run at the agents' default CPU quota (the ratio
 * to the unthrottled bare run is printed too); 20 concurrent within 1.3× the wall time of 20 bare runs
 * started at once.
 * Env: PROVISION_BENCH_RUNS (default 5), PROVISION_BENCH_CONCURRENT (default 20), AGENT_IMAGE (default
 * agent-fleet/agent:<version>), AGENT_CPUS (the orchestrator's quota; default its own, 0.5).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { agentRequest, fleetCaAgent } from '../../orchestrator/src/adapters/http/agent-https.ts';
import { HttpAgentHealthProbe } from '../../orchestrator/src/adapters/http/http-agent-health-probe.ts';
import { DEFAULT_HEALTH_POLLING } from '../../orchestrator/src/services/wait-for-agent-health.ts';
import { agentBundle, testFleetCa } from '../helpers/agent-tls.ts';
import { createFleetFixture, docker, removeClientResources, uniqueClientId, type FleetFixture } from '../helpers/fleet-fixture.ts';

const RUNS = Number(process.env['PROVISION_BENCH_RUNS'] ?? 5);
const CONCURRENT = Number(process.env['PROVISION_BENCH_CONCURRENT'] ?? 20);
const IMAGE = process.env['AGENT_IMAGE'] ?? 'agent-fleet/agent:0.1.0';
const SINGLE_TARGET = 1.2;
const CONCURRENT_TARGET = 1.3;
const BENCH_LABEL = 'io.agentfleet.bench';
const RUN_ID = `provision-${process.pid}`;
const HEALTH_TIMEOUT_MS = 60_000;
/** The bare runs' own networks: 10.252.<n>.0/28, away from the fleet's pools. */
const OWN_NETWORK_PREFIX = '10.252';

const run = promisify(execFile);
const BARE_CLIENT = parseClientId('benchbare');
let probe: HttpAgentHealthProbe;
let readyzAgent: ReturnType<typeof fleetCaAgent>;
const clients: ClientId[] = [];
let fleet: FleetFixture | undefined;
let configDir: string | undefined;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const round = (value: number) => Math.round(value * 10) / 10;
const ratio = (value: number) => Math.round(value * 100) / 100;

function summary(values: readonly number[]) {
  return { p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), n: values.length };
}

function stepSummary(runs: ReadonlyArray<Array<{ step: string; durationMs: number }>>) {
  const byStep = new Map<string, number[]>();
  for (const steps of runs) for (const { step, durationMs } of steps) byStep.set(step, [...(byStep.get(step) ?? []), durationMs]);
  return Object.fromEntries([...byStep].map(([step, values]) => [step, summary(values)]));
}

/**
 * Since issue 18 the agent answers /healthz before its runtime, express and the metrics exporter have
 * loaded; every other route answers once they have. The first answer of /readyz (a 503 "not introduced"
 * for a bare run) marks that moment: a bare agent serving every route, still without an introduction.
 */
async function firstReadyzAnswer(address: string): Promise<void> {
  const response = await agentRequest(readyzAgent, BARE_CLIENT, address, { method: 'GET', path: '/readyz', timeoutMs: HEALTH_TIMEOUT_MS });
  response.resume();
}

/** The end of a bare run's `docker run`: config and TLS identity bind-mounted read-only, then the image. */
function bareAgent(configFile: string): string[] {
  return ['-v', `${configFile}:/data/config.yaml:ro`, '-v', `${path.dirname(configFile)}/tls:/tls:ro`, '-e', 'AGENT_TLS_DIR=/tls', IMAGE];
}

/** `docker run -d` of the agent image, then /healthz polled as the orchestrator polls; returns milliseconds. */
async function bareDockerRun(configFile: string, cpus?: number): Promise<number> {
  return (await timedBareRun(configFile, cpus, false)).healthyMs;
}

/**
 * As bareDockerRun, and with `serving`, also the milliseconds to the first answer of /readyz; `startedMs`:
 * when `docker run -d` returned (the container created and started, the agent's process running).
 */
async function timedBareRun(configFile: string, cpus: number | undefined, serving: boolean): Promise<{ startedMs: number; healthyMs: number; servingMs: number }> {
  const started = performance.now();
  const { stdout } = await run('docker', [
    'run', '-d', '--label', `${BENCH_LABEL}=${RUN_ID}`, '-p', '127.0.0.1::8080', ...(cpus === undefined ? [] : [`--cpus=${cpus}`]),
    ...bareAgent(configFile),
  ]);
  const id = stdout.trim();
  const startedMs = performance.now() - started;
  const address = await untilHealthy(id, started, (info) => {
    const port = info.NetworkSettings.Ports?.['8080/tcp']?.[0]?.HostPort;
    return port === undefined ? undefined : `127.0.0.1:${port}`;
  });
  const healthyMs = performance.now() - started;
  if (serving) await firstReadyzAnswer(address);
  return { startedMs, healthyMs, servingMs: performance.now() - started };
}

/** Polls the container's /healthz as the orchestrator polls it (same backoff, same probe); returns the address. */
async function untilHealthy(id: string, started: number, addressOf: (info: Docker.ContainerInspectInfo) => string | undefined): Promise<string> {
  const { firstIntervalMs, maxIntervalMs, inspectEveryMs } = DEFAULT_HEALTH_POLLING;
  let address: string | undefined;
  let inspectedAt = Number.NEGATIVE_INFINITY;
  let intervalMs = firstIntervalMs;
  for (;;) {
    if (!address || performance.now() - inspectedAt >= inspectEveryMs) {
      inspectedAt = performance.now();
      const info = await docker.getContainer(id).inspect();
      address = addressOf(info);
      if (!info.State.Running && info.State.Status !== 'created') throw new Error(`bare container exited with ${info.State.ExitCode}`);
    }
    if (address && (await probe.isHealthy(BARE_CLIENT, address))) return address;
    if (performance.now() - started > HEALTH_TIMEOUT_MS) throw new Error('bare container never became healthy');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    intervalMs = Math.min(maxIntervalMs, intervalMs * 1.5);
  }
}

/**
 * The bare run on a network of its own, as every client has one: an internal bridge without inter-container
 * traffic created first, then `docker run -d` on it, healthy on the container's address. No hardening,
 * secrets or introduction: what the per-client network alone costs the engine. Returns milliseconds.
 */
async function bareOwnNetworkRun(configFile: string, index: number): Promise<number> {
  const started = performance.now();
  const network = `${RUN_ID}-${index}`;
  await docker.createNetwork({
    Name: network,
    Driver: 'bridge',
    Internal: true,
    IPAM: { Driver: 'default', Config: [{ Subnet: `${OWN_NETWORK_PREFIX}.${index}.0/28`, Gateway: `${OWN_NETWORK_PREFIX}.${index}.1` }] },
    Options: { 'com.docker.network.bridge.enable_icc': 'false' },
    Labels: { [BENCH_LABEL]: RUN_ID },
  });
  const { stdout } = await run('docker', [
    'run', '-d', '--label', `${BENCH_LABEL}=${RUN_ID}`, '--network', network,
    ...bareAgent(configFile),
  ]);
  await untilHealthy(stdout.trim(), started, (info) => {
    const ip = info.NetworkSettings.Networks[network]?.IPAddress;
    return ip ? `${ip}:8080` : undefined;
  });
  return performance.now() - started;
}

async function removeBareNetworks(): Promise<void> {
  const networks = await docker.listNetworks({ filters: { label: [`${BENCH_LABEL}=${RUN_ID}`] } });
  await Promise.all(networks.map((network) => docker.getNetwork(network.Id).remove().catch(() => undefined)));
}

const AT_ONCE_BEFORE_CONTAINER = ['secrets', 'volume', 'network'];

/** The saga's time before the agent's process runs: the claim, the slowest of the three run at once, create, start. */
function beforeAgentRunsMs(steps: ReadonlyArray<{ step: string; durationMs: number }>): number {
  const of = (name: string) => steps.find((entry) => entry.step === name)?.durationMs ?? 0;
  return of('registry') + Math.max(...AT_ONCE_BEFORE_CONTAINER.map(of)) + of('container') + of('start');
}

async function removeBareContainers(): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=${RUN_ID}`] } });
  await Promise.all(containers.map((container) => docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined)));
}

async function provisionOnce(clientId: ClientId) {
  const started = performance.now();
  const result = await fleet!.orchestrator.provision.provision({ clientId, actor: 'bench' });
  const endToEndMs = performance.now() - started;
  if (result.outcome !== 'provisioned') throw new Error(`${clientId}: ${result.outcome}`);
  return { endToEndMs, steps: result.steps };
}

async function purge(ids: readonly ClientId[]): Promise<void> {
  for (let index = 0; index < ids.length; index += 10) {
    await Promise.all(
      ids.slice(index, index + 10).map((clientId) =>
        fleet!.orchestrator.deprovision.deprovision({ clientId, purge: true, actor: 'bench' }).catch(() => undefined),
      ),
    );
  }
}

async function cleanup(): Promise<void> {
  await removeBareContainers().catch(() => undefined);
  await removeBareNetworks().catch(() => undefined);
  await removeClientResources(clients).catch(() => undefined);
  if (fleet) await fleet.cleanup(clients).catch(() => undefined);
  if (configDir) await rm(configDir, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  process.stderr.write('interrupted: removing what this benchmark created\n');
  void cleanup().finally(() => process.exit(130));
});

async function main() {
  // AGENT_CPUS from the environment lets the quota's share of the gap to a bare (unlimited) run be measured.
  fleet = await createFleetFixture({
    AGENT_IMAGE: IMAGE,
    AGENT_HEALTH_TIMEOUT_SECONDS: String(HEALTH_TIMEOUT_MS / 1000),
    ...(process.env['AGENT_CPUS'] ? { AGENT_CPUS: process.env['AGENT_CPUS'] } : {}),
    // FLEET_HOST_FIREWALL=off measures what the client networks' host firewall costs provisioning.
    ...(process.env['FLEET_HOST_FIREWALL'] ? { FLEET_HOST_FIREWALL: process.env['FLEET_HOST_FIREWALL'] } : {}),
  });
  configDir = await mkdtemp(path.join(os.tmpdir(), 'provision-bench-'));
  const configFile = path.join(configDir, 'config.yaml');
  // Mode 0644: inside the container only the file's own mode matters, and the agent runs as uid 10001.
  await writeFile(configFile, 'client: benchbare\n', { mode: 0o644 });
  // The bare agent serves TLS too (its identity from a directory, as on Kubernetes), so the probes compare.
  const ca = await testFleetCa();
  const bundle = await agentBundle(BARE_CLIENT, ca);
  await mkdir(path.join(configDir, 'tls'), { mode: 0o755 });
  await writeFile(path.join(configDir, 'tls', 'tls.crt'), bundle.certificatePem, { mode: 0o644 });
  await writeFile(path.join(configDir, 'tls', 'tls.key'), bundle.privateKeyPem, { mode: 0o644 });
  await writeFile(path.join(configDir, 'tls', 'ca.crt'), bundle.caCertificatePem, { mode: 0o644 });
  probe = new HttpAgentHealthProbe({ caPem: ca.certificatePem });
  readyzAgent = fleetCaAgent(ca.certificatePem);

  // Warm-up (page cache, image layers), not measured.
  await bareDockerRun(configFile);
  await removeBareContainers();

  const quota = fleet.config.agent.nanoCpus / 1e9;
  const single = {
    orchestrator: [] as number[],
    bare: [] as number[],
    bareQuota: [] as number[],
    bareQuotaServing: [] as number[],
    bareQuotaAgentToHealthy: [] as number[],
    steps: [] as Array<Array<{ step: string; durationMs: number }>>,
  };
  for (let index = 0; index < RUNS; index++) {
    single.bare.push(await bareDockerRun(configFile));
    await removeBareContainers();
    const atQuota = await timedBareRun(configFile, quota, true);
    single.bareQuota.push(atQuota.healthyMs);
    single.bareQuotaServing.push(atQuota.servingMs);
    single.bareQuotaAgentToHealthy.push(atQuota.healthyMs - atQuota.startedMs);
    await removeBareContainers();
    const clientId = uniqueClientId('bp');
    clients.push(clientId);
    const measured = await provisionOnce(clientId);
    single.orchestrator.push(measured.endToEndMs);
    single.steps.push(measured.steps);
    await purge([clientId]);
  }

  const batch = Array.from({ length: CONCURRENT }, () => uniqueClientId('bc'));
  clients.push(...batch);
  const batchStarted = performance.now();
  const settled = await Promise.allSettled(batch.map(provisionOnce));
  const batchWallMs = performance.now() - batchStarted;
  const measured = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failures = settled.flatMap((result) => (result.status === 'rejected' ? [String((result.reason as Error).message ?? result.reason)] : []));
  await purge(batch);

  const bareBatchStarted = performance.now();
  const bareSettled = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => bareDockerRun(configFile)));
  const bareBatchWallMs = performance.now() - bareBatchStarted;
  await removeBareContainers();

  const ownNetworksStarted = performance.now();
  const ownNetworksSettled = await Promise.allSettled(Array.from({ length: CONCURRENT }, (_, index) => bareOwnNetworkRun(configFile, index)));
  const ownNetworksWallMs = performance.now() - ownNetworksStarted;
  await removeBareContainers();
  await removeBareNetworks();

  const ratioP50 = percentile(single.orchestrator, 50) / percentile(single.bare, 50);
  const ratioP95 = percentile(single.orchestrator, 95) / percentile(single.bare, 95);
  const ratioAtQuotaP50 = percentile(single.orchestrator, 50) / percentile(single.bareQuota, 50);
  const ratioAtQuotaP95 = percentile(single.orchestrator, 95) / percentile(single.bareQuota, 95);
  // What provisioning would take if its agent did no more than a bare one: no TLS handover at Vault, no
  // introduction, no readiness. Above the target, no change to the agent alone can meet it.
  const beforeAgentRuns = single.steps.map(beforeAgentRunsMs);
  const lowerBoundMs = percentile(beforeAgentRuns, 50) + percentile(single.bareQuotaAgentToHealthy, 50);
  const engine = await docker.version();
  console.log(
    JSON.stringify(
      {
        bench: 'provision',
        host: { cpus: os.cpus().length, engine: engine.Version, image: IMAGE, loadAverage: os.loadavg().map(round) },
        bare:
          '`docker run -d` of the same image: default bridge, no hardening (no quota, read-only root or egress rules), config.yaml and a TLS identity ' +
          '(tls.crt, tls.key, ca.crt from the fleet CA; AGENT_TLS_DIR) bind-mounted read-only instead of the Vault handover; timed to its first ' +
          'healthy /healthz (TLS 1.3, identity checked) polled as the orchestrator polls it. No network, secrets, Vault, introduction or readiness steps.',
        agentCpuQuota: quota,
        single: {
          runs: RUNS,
          orchestratorEndToEndMs: summary(single.orchestrator),
          orchestratorStepsMs: stepSummary(single.steps),
          bareDockerRunToHealthyMs: summary(single.bare),
          bareAtAgentQuotaToHealthyMs: summary(single.bareQuota),
          bareAtAgentQuotaToServingEveryRouteMs: summary(single.bareQuotaServing),
          servingNote:
            'the agent answers /healthz before its runtime has loaded (issue 18: cold start); a bare run serves every route (first answer of /readyz, still not introduced) this much later. Provisioning ends after the introduction and readiness, which a bare run has neither of.',
          ratioToBareAtQuotaServingEveryRoute: { p50: ratio(percentile(single.orchestrator, 50) / percentile(single.bareQuotaServing, 50)) },
          ratioToBare: { p50: ratio(ratioP50), p95: ratio(ratioP95) },
          ratioToBareAtQuota: { p50: ratio(ratioAtQuotaP50), p95: ratio(ratioAtQuotaP95) },
          lowerBound: {
            note:
              'the saga before the agent runs (registry, the slowest of secrets/volume/network, container, start) plus a bare agent\'s own time at the quota from `docker run -d` returning to healthy: provisioning if its agent did no more than a bare one (no TLS handover at Vault, introduction or readiness)',
            provisionBeforeAgentRunsMs: summary(beforeAgentRuns),
            bareAgentToHealthyAtQuotaMs: summary(single.bareQuotaAgentToHealthy),
            p50Ms: round(lowerBoundMs),
            ratioToBareAtQuota: ratio(lowerBoundMs / percentile(single.bareQuota, 50)),
          },
          target: `end to end p50 within ${SINGLE_TARGET}x the bare docker run at the agents' default CPU quota (${quota}), the orchestrator at that quota`,
          meetsTarget: ratioAtQuotaP50 <= SINGLE_TARGET,
        },
        concurrent: {
          clients: CONCURRENT,
          succeeded: measured.length,
          failures,
          wallMs: round(batchWallMs),
          perClientEndToEndMs: summary(measured.map((m) => m.endToEndMs)),
          stepsMs: stepSummary(measured.map((m) => m.steps)),
          bareDockerRunWallMs: round(bareBatchWallMs),
          bareFailures: bareSettled.filter((result) => result.status === 'rejected').length,
          ratioToBare: ratio(batchWallMs / bareBatchWallMs),
          bareOnOwnNetworks: {
            note: 'the same bare runs started at once, each on an internal network of its own created first (every client has one): what per-client networks alone cost the engine',
            wallMs: round(ownNetworksWallMs),
            failures: ownNetworksSettled.filter((result) => result.status === 'rejected').length,
            ratioToBare: ratio(ownNetworksWallMs / bareBatchWallMs),
          },
          target: `wall time within ${CONCURRENT_TARGET}x that of ${CONCURRENT} bare runs started at once, all succeeded`,
          meetsTarget: failures.length === 0 && batchWallMs <= CONCURRENT_TARGET * bareBatchWallMs,
        },
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

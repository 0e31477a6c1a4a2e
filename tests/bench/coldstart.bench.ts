/**
 * Agent cold start, unthrottled: from spawning the agent's process to its /healthz answering over TLS 1.3,
 * for the bundle the image ships (scripts/bundle.ts), run with the image entrypoint's Node flags and V8's
 * compile cache primed the way the image build primes it (agent-image/Dockerfile). The agent's identity comes
 * from a TLS directory (AGENT_TLS_DIR, as on Kubernetes), so no Vault round trip is in the figure. The
 * breakdown is the agent's own (startup/startup-clock.ts, logged with "agent started"). Prints one JSON document.
 * Target: p50 ≤ 150 ms.
 * Env: COLDSTART_RUNS (default 20); COLDSTART_BUNDLE (an agent.mjs already built, e.g. an older one to
 * compare; default: bundled now); COLDSTART_COMPILE_CACHE=off to start without the compile cache;
 * COLDSTART_NODE_FLAGS to try other Node flags than the image's (space-separated).
 */
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { agentConfigDocument } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { HttpAgentHealthProbe } from '../../orchestrator/src/adapters/http/http-agent-health-probe.ts';
import { agentBundle, testFleetCa } from '../helpers/agent-tls.ts';
import { freePort } from '../helpers/free-port.ts';

const RUNS = Number(process.env['COLDSTART_RUNS'] ?? 20);
const GIVEN_BUNDLE = process.env['COLDSTART_BUNDLE'];
const COMPILE_CACHE = process.env['COLDSTART_COMPILE_CACHE'] !== 'off';
const TARGET_P50_MS = 150;
const POLL_MS = 2;
const TIMEOUT_MS = 20_000;
const root = path.resolve(import.meta.dirname, '../..');
const node = path.join(root, 'node_modules/.bin/node');
const run = promisify(execFile);
const CLIENT = parseClientId('benchcold');

type Timings = Record<
  'runtimeStartMs' | 'moduleLoadMs' | 'configAndTlsMs' | 'listenMs' | 'healthzMs' | 'runtimeLoadMs' | 'composeMs' | 'composedMs',
  number
>;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
const round = (value: number) => Math.round(value * 10) / 10;
const summary = (values: readonly number[]) => ({ p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), n: values.length });

/** The Node flags of the image's ENTRYPOINT (between the node binary and the bundle), so both start alike. */
async function entrypointFlags(): Promise<string[]> {
  const dockerfile = await readFile(path.join(root, 'agent-image/Dockerfile'), 'utf8');
  const line = dockerfile.split('\n').find((entry) => entry.startsWith('ENTRYPOINT '));
  if (!line) throw new Error('agent-image/Dockerfile has no ENTRYPOINT');
  const argv = JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
  return argv.slice(1, -1);
}

interface Start {
  healthyMs: number;
  timings: Timings | null;
}

async function startOnce(entry: string, flags: string[], env: NodeJS.ProcessEnv, probe: HttpAgentHealthProbe): Promise<Start> {
  const [controlPort, metricsPort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(node, [...flags, entry], {
    env: { ...env, AGENT_CONTROL_PORT: String(controlPort), AGENT_METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${output.slice(0, 2000)}`);
      if (await probe.isHealthy(CLIENT, `127.0.0.1:${controlPort}`)) break;
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`agent never answered /healthz: ${output.slice(0, 2000)}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const healthyMs = performance.now() - started;
    // The breakdown is logged once the rest of the agent is composed, after /healthz already answers.
    const startedLine = await new Promise<string | undefined>((resolve) => {
      const find = () => output.split('\n').find((line) => line.includes('"agent started'));
      const deadline = performance.now() + TIMEOUT_MS;
      const look = () => {
        const line = find();
        if (line !== undefined || child.exitCode !== null || performance.now() > deadline) resolve(line);
        else setTimeout(look, 5);
      };
      look();
    });
    const timings = startedLine ? ((JSON.parse(startedLine) as { startup?: Timings }).startup ?? null) : null;
    return { healthyMs, timings };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-coldstart-'));
  try {
    const flags = process.env['COLDSTART_NODE_FLAGS']?.split(' ').filter(Boolean) ?? (await entrypointFlags());
    const entry = GIVEN_BUNDLE ? path.resolve(GIVEN_BUNDLE) : path.join(work, 'app', 'agent.mjs');
    if (!GIVEN_BUNDLE) await run(node, [path.join(root, 'scripts/bundle.ts'), 'agent', '--outdir', path.dirname(entry)], { cwd: root });
    const cacheDir = path.join(work, 'compile-cache');
    const prime = path.join(path.dirname(entry), 'prime-compile-cache.mjs');
    // Primed like the image build does; an older bundle without the primer fills the cache at its warm-up start.
    if (COMPILE_CACHE && existsSync(prime)) await run(node, [...flags, prime], { env: { ...process.env, NODE_COMPILE_CACHE: cacheDir } });
    const tls = path.join(work, 'tls');
    const data = path.join(work, 'data');
    await mkdir(tls);
    await mkdir(data);
    const ca = await testFleetCa();
    const bundle = await agentBundle(CLIENT, ca);
    await writeFile(path.join(tls, 'tls.crt'), bundle.certificatePem);
    await writeFile(path.join(tls, 'tls.key'), bundle.privateKeyPem);
    await writeFile(path.join(tls, 'ca.crt'), bundle.caCertificatePem);
    // As the orchestrator places it (agent-workload.ts): the config YAML as JSON.
    await writeFile(path.join(data, 'config.yaml'), agentConfigDocument(`client: ${CLIENT}\n`));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      AGENT_TLS_DIR: tls,
      AGENT_DATA_DIR: data,
      AGENT_CONFIG_PATH: path.join(data, 'config.yaml'),
      AGENT_BIND_HOST: '127.0.0.1',
      ...(COMPILE_CACHE ? { NODE_COMPILE_CACHE: cacheDir } : {}),
    };
    const probe = new HttpAgentHealthProbe({ caPem: ca.certificatePem, timeoutMs: 1000 });

    await startOnce(entry, flags, env, probe); // warm-up (page cache; fills the cache when the bundle had no primer)
    const starts: Start[] = [];
    for (let index = 0; index < RUNS; index++) starts.push(await startOnce(entry, flags, env, probe));

    const healthy = starts.map((start) => start.healthyMs);
    const timed = starts.flatMap((start) => (start.timings ? [start.timings] : []));
    const breakdown = (key: keyof Timings) => (timed.length === 0 ? null : summary(timed.map((timing) => timing[key])));
    // Built now: the whole bundle directory (entry, chunks, primer); given: that one file.
    const bundleFiles = GIVEN_BUNDLE
      ? (await stat(entry)).size
      : await run('du', ['-sb', path.dirname(entry)]).then((result) => Number(result.stdout.split('\t')[0]));
    const p50 = percentile(healthy, 50);
    console.log(
      JSON.stringify(
        {
          bench: 'coldstart',
          host: { cpus: os.cpus().length, node: process.versions.node, loadAverage: os.loadavg().map(round) },
          bundle: { entry: GIVEN_BUNDLE ?? 'scripts/bundle.ts agent (built now)', bytes: bundleFiles, nodeFlags: flags, compileCache: COMPILE_CACHE },
          definition: `spawn of the agent process → first 200 from https /healthz (TLS 1.3, polled every ${POLL_MS} ms); unthrottled; identity from AGENT_TLS_DIR; config as the orchestrator places it (JSON)`,
          processStartToHealthyMs: summary(healthy),
          breakdownMs: {
            runtimeStart: breakdown('runtimeStartMs'),
            moduleLoad: breakdown('moduleLoadMs'),
            configAndTls: breakdown('configAndTlsMs'),
            listen: breakdown('listenMs'),
            timeOriginToHealthz: breakdown('healthzMs'),
            afterHealthz: {
              runtimeModuleLoad: breakdown('runtimeLoadMs'),
              compose: breakdown('composeMs'),
              timeOriginToComposed: breakdown('composedMs'),
            },
            note: 'measured by the agent itself (startup/startup-clock.ts: performance.nodeTiming, performance.now from the process time origin); module load = the modules main imports statically; config = env, config YAML and the TLS identity; /healthz answers once the control server listens, the other routes once the runtime is composed (afterHealthz); the client volume’s stores open later, at the introduction',
          },
          targetP50Ms: TARGET_P50_MS,
          meetsTarget: p50 <= TARGET_P50_MS,
        },
        null,
        2,
      ),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();

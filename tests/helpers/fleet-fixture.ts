import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { loadConfig, type OrchestratorConfig } from '../../orchestrator/src/config.ts';
import { createOrchestrator, type Orchestrator, type OrchestratorOverrides } from '../../orchestrator/src/orchestrator.ts';

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

let counter = 0;
/** A client id unique to this test process, so parallel test files never collide. */
export function uniqueClientId(stem = 't'): ClientId {
  counter += 1;
  return parseClientId(`${stem}${process.pid.toString(36)}x${counter}`);
}

export interface FleetFixture {
  orchestrator: Orchestrator;
  config: Readonly<OrchestratorConfig>;
  homeDir: string;
  /** Removes every managed container, network and volume of the given clients, then the temp home. */
  cleanup(clientIds: readonly string[]): Promise<void>;
}

export async function createFleetFixture(
  env: Record<string, string> = {},
  overrides: OrchestratorOverrides = {},
  logger: Logger = createSilentLogger(),
): Promise<FleetFixture> {
  // A test that restarts a fleet on an earlier fixture's home passes it; the last cleanup removes it.
  const reusedHome = env['AGENT_FLEET_HOME'];
  const homeDir = reusedHome ?? (await mkdtemp(path.join(os.tmpdir(), 'fleet-test-')));
  const config = loadConfig({
    AGENT_FLEET_HOME: homeDir,
    AGENT_HEALTH_TIMEOUT_SECONDS: '20',
    RECONCILE_INTERVAL_SECONDS: '0',
    EMBEDDED_VAULT_PORT: '0',
    PORTAL_PORT: '0',
    ...env,
  });
  let orchestrator: Orchestrator;
  try {
    orchestrator = await createOrchestrator(config, logger, overrides);
  } catch (error) {
    // A test that expects the start to be refused gets its refusal; a home made for it goes.
    if (reusedHome === undefined) await rm(homeDir, { recursive: true, force: true });
    throw error;
  }
  return {
    orchestrator,
    config,
    homeDir,
    async cleanup(clientIds) {
      await removeClientResources(clientIds);
      await orchestrator.close().catch(() => undefined);
      await rm(homeDir, { recursive: true, force: true });
    },
  };
}

/** Cleanup by client label (the ids are unique to this test process), whatever state a failed test left. */
export async function removeClientResources(clientIds: readonly string[]): Promise<void> {
  for (const raw of clientIds) {
    const filters = { label: [`io.agentfleet.client=${parseClientId(raw)}`, 'io.agentfleet.managed=true'] };
    for (const container of await docker.listContainers({ all: true, filters })) {
      await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
    }
    for (const network of await docker.listNetworks({ filters })) {
      await docker.getNetwork(network.Id).remove().catch(() => undefined);
    }
    for (const volume of (await docker.listVolumes({ filters })).Volumes ?? []) {
      await docker.getVolume(volume.Name).remove({ force: true }).catch(() => undefined);
    }
  }
}

/** Everything on the engine that carries the given client's label. */
export async function resourcesOf(clientId: string): Promise<string[]> {
  const filters = { label: [`io.agentfleet.client=${clientId}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

/**
 * Runs a Node script in a short-lived container of the agent image that joins `containerName`'s network
 * namespace (`NetworkMode: container:<name>`): it sees exactly the interfaces, routes and firewall rules
 * that container sees, but has its own memory cgroup, so a probe's sockets never count against (or get
 * OOM-killed inside) the agent's limit. Hardened like an agent; removed when done, whatever happened.
 */
export async function runNodeInNetworkOf(
  containerName: string,
  script: string,
  options: { image?: string; memoryMiB?: number; timeoutMs?: number } = {},
): Promise<string> {
  const target = await docker.getContainer(containerName).inspect();
  const client = target.Config.Labels?.['io.agentfleet.client'] ?? 'none';
  const memory = (options.memoryMiB ?? 512) * 1024 * 1024;
  const probe = await docker.createContainer({
    Image: options.image ?? target.Config.Image,
    Entrypoint: ['/usr/local/bin/node', '-e', script],
    Cmd: [],
    User: '10001:10001',
    Labels: { 'io.agentfleet.client': client, 'io.agentfleet.test-probe': 'true' },
    HostConfig: {
      NetworkMode: `container:${target.Id}`,
      Memory: memory,
      MemorySwap: memory,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      PidsLimit: 64,
    },
  });
  try {
    await probe.start();
    const timeoutMs = options.timeoutMs ?? 120_000;
    const outcome = await Promise.race([
      probe.wait() as Promise<{ StatusCode: number }>,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`probe beside ${containerName} timed out`)), timeoutMs).unref()),
    ]);
    const { stdout, stderr } = demuxLogs(await probe.logs({ stdout: true, stderr: true, follow: false }));
    const { State } = await probe.inspect();
    if (State.OOMKilled) throw new Error(`probe beside ${containerName} ran out of its own ${options.memoryMiB ?? 512} MiB`);
    if (outcome.StatusCode !== 0) throw new Error(`probe beside ${containerName} failed (${outcome.StatusCode}): ${stderr}`);
    return stdout;
  } finally {
    await probe.remove({ force: true }).catch(() => undefined);
  }
}

/** Splits a non-TTY container log (8-byte frame headers: stream, 0, 0, 0, big-endian length). */
function demuxLogs(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const stream = raw[offset];
    const length = raw.readUInt32BE(offset + 4);
    const frame = raw.subarray(offset + 8, offset + 8 + length);
    (stream === 2 ? err : out).push(frame);
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

/** Runs a Node script inside a container (the agent image has node and no shell). */
export async function execNode(containerName: string, script: string, timeoutMs = 120_000): Promise<string> {
  const exec = await docker.getContainer(containerName).exec({
    Cmd: ['/usr/local/bin/node', '-e', script],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec in ${containerName} timed out`)), timeoutMs);
    const sink = (chunks: Buffer[]) => ({ write: (chunk: Buffer) => chunks.push(chunk) }) as unknown as NodeJS.WritableStream;
    docker.modem.demuxStream(stream, sink(stdout), sink(stderr));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw new Error(`exec failed (${ExitCode}): ${Buffer.concat(stderr).toString()}`);
  return Buffer.concat(stdout).toString();
}

import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { clientLabels, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AGENT_DATA_PATH } from './agent-container-options.ts';
import type { EngineHostConfig } from './engine-host-config.ts';

export const LABEL_COMPONENT = 'io.agentfleet.component';
/** Components of the short-lived containers that work on a client's volume. */
export const HELPER_COMPONENTS = ['volume-helper', 'volume-reader'] as const;

/**
 * A never-started (archive API) or short-lived (node script) container on the client's volume: the agent
 * image, non-root, no capabilities, read-only root, no network, private IPC and cgroup namespaces, small
 * limits, labelled for cleanup.
 */
export function volumeHelperOptions(input: {
  clientId: ClientId;
  fleetLabels: Record<string, string>;
  image: string;
  user: string;
  readOnly: boolean;
  script?: { source: string; args: string[] };
}): Docker.ContainerCreateOptions {
  const names = resourceNames(input.clientId);
  const memory = 128 * 1024 * 1024;
  const hostConfig: EngineHostConfig = {
    NetworkMode: 'none',
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges:true'],
    ReadonlyRootfs: true,
    IpcMode: 'private',
    CgroupnsMode: 'private',
    Memory: memory,
    MemorySwap: memory,
    PidsLimit: 32,
    Init: true,
    LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    Mounts: [{ Type: 'volume', Source: names.volume, Target: AGENT_DATA_PATH, ReadOnly: input.readOnly }],
    RestartPolicy: { Name: 'no' },
  };
  return {
    name: `${names.container}-helper-${randomBytes(4).toString('hex')}`,
    Image: input.image,
    User: input.user,
    Entrypoint: ['/usr/local/bin/node', '-e', input.script?.source ?? 'process.exit(0)'],
    Cmd: input.script?.args ?? [],
    Labels: { ...clientLabels(input.clientId), ...input.fleetLabels, [LABEL_COMPONENT]: 'volume-helper' },
    NetworkDisabled: true,
    HostConfig: hostConfig,
  };
}

/** Splits a non-TTY container log (8-byte frame headers: stream, 0, 0, 0, big-endian length). */
export function demuxLogs(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const length = raw.readUInt32BE(offset + 4);
    (raw[offset] === 2 ? err : out).push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Starts a helper, waits for it to exit (bounded), returns its stdout; removed whatever happens. */
export async function runHelper(container: Docker.Container, what: string, timeoutMs = 120_000): Promise<string> {
  try {
    await container.start();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      container.wait() as Promise<{ StatusCode: number }>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FleetError('timeout', `${what} did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const { stdout, stderr } = demuxLogs((await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
    if (outcome.StatusCode !== 0) {
      // Node prints the thrown error's first line above its stack: that line says what went wrong.
      const reason = stderr.split('\n').find((line) => /^\w*Error\b/.test(line)) ?? stderr.trim().split('\n').at(-1) ?? '';
      throw new FleetError('internal', `${what} failed (exit ${outcome.StatusCode}): ${reason.slice(0, 500)}`);
    }
    return stdout;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

import Docker from 'dockerode';
import { LABEL_CLIENT, LABEL_FLEET, LABEL_MANAGED, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { readAtMost } from '@agent-fleet/kernel/bounded-body';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentForensics } from '../../ports/agent-forensics.ts';
import { statusCodeOf, translateDockerError } from './docker-errors.ts';

/** Splits a non-TTY container log (8-byte frame headers: stream, 0, 0, 0, big-endian length) into lines. */
export function demuxLogLines(raw: Buffer): string[] {
  const frames: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const length = raw.readUInt32BE(offset + 4);
    frames.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(frames)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0);
}

/** Reads a Docker agent's container description, its logs and its metrics, for incident evidence. */
export class DockerAgentForensics implements AgentForensics {
  private readonly docker: Docker;
  private readonly fleetId: string;

  constructor(options: { socketPath?: string; fleetId: string }) {
    this.docker = new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
    this.fleetId = options.fleetId;
  }

  async describe(clientId: ClientId): Promise<Record<string, unknown> | null> {
    const name = resourceNames(clientId).container;
    try {
      const inspect = await this.docker.getContainer(name).inspect();
      const labels = inspect.Config.Labels ?? {};
      if (labels[LABEL_MANAGED] !== 'true' || labels[LABEL_FLEET] !== this.fleetId || labels[LABEL_CLIENT] !== clientId) {
        throw new FleetError('conflict', `container ${name} is not this fleet's agent of ${clientId}`);
      }
      return inspect as unknown as Record<string, unknown>;
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw translateDockerError(error, `inspect container ${name}`);
    }
  }

  async logs(clientId: ClientId, maxLines: number): Promise<string[]> {
    if ((await this.describe(clientId)) === null) return [];
    const name = resourceNames(clientId).container;
    try {
      const raw = (await this.docker
        .getContainer(name)
        .logs({ stdout: true, stderr: true, follow: false, timestamps: true, tail: maxLines })) as unknown as Buffer;
      return demuxLogLines(raw);
    } catch (error) {
      throw translateDockerError(error, `read the logs of ${name}`);
    }
  }

  async scrapeMetrics(metricsAddress: string): Promise<string> {
    try {
      // The agent answers: it is not trusted to send the orchestrator elsewhere, nor to size what it reads.
      const response = await fetch(`http://${metricsAddress}/metrics`, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
      if (!response.ok) {
        await response.body?.cancel();
        throw new FleetError('unavailable', `the agent's metrics answered HTTP ${response.status}`);
      }
      return await boundedText(response, AGENT_METRICS_MAX_BYTES);
    } catch (error) {
      if (error instanceof FleetError) throw error;
      throw new FleetError('unavailable', `the agent's metrics at ${metricsAddress} could not be read`, { cause: error });
    }
  }
}

/** An agent's whole exposition is a few hundred kilobytes; more is not metrics. */
export const AGENT_METRICS_MAX_BYTES = 4 * 1024 * 1024;

/** The body as UTF-8, read only while it stays within `maxBytes`. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const body = await readAtMost(response, maxBytes);
  if (body === null) throw new FleetError('unavailable', `the agent's metrics exceed ${maxBytes} bytes: not read`);
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

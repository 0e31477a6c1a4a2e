import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import { docker } from '../../helpers/fleet-fixture.ts';

/** Every entry of a client's volume with its type, mode and SHA-256: equal fingerprints, equal volumes. */
export async function volumeFingerprint(runtime: ContainerRuntime, clientId: ClientId, image: string): Promise<string[]> {
  const entries: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, stream: Readable, next: () => void) => {
    const hash = createHash('sha256');
    stream.on('data', (chunk: Buffer) => hash.update(chunk));
    stream.once('end', () => {
      entries.push(`${header.name} ${header.type} ${(header.mode ?? 0).toString(8)} ${hash.digest('hex')}`);
      next();
    });
  });
  await pipeline((await runtime.volumes.snapshot(clientId, image)) as Readable, extract);
  return entries.sort();
}

/**
 * Runs a node script as the agent user in a throwaway container on the client's volume (no network):
 * how a test leaves a restore's swap half done, exactly as a crash in the middle would.
 */
export async function runOnVolume(clientId: ClientId, image: string, script: string): Promise<void> {
  const helper = await docker.createContainer({
    Image: image,
    User: '10001:10001',
    Entrypoint: ['/usr/local/bin/node', '-e', script],
    Labels: { 'io.agentfleet.client': clientId, 'io.agentfleet.test-probe': 'true' },
    HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'], ReadonlyRootfs: true, Mounts: [{ Type: 'volume', Source: `fleet-${clientId}-data`, Target: '/data' }] },
  });
  try {
    await helper.start();
    const { StatusCode } = (await helper.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`volume script failed (${StatusCode}): ${(await helper.logs({ stdout: true, stderr: true })).toString()}`);
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}

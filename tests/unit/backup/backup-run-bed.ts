// The backup side of the tests of a backup run (scheduled, or stalled by the engine): the smallest volume
// snapshot an agent gives, and a backup service that keeps real, encrypted backups in a directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import tar from 'tar-stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DirectoryBackupStore } from '../../../orchestrator/src/adapters/backup-directory/directory-backup-store.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';

/** The smallest volume snapshot a backup accepts: the volume's root and the wrapped data key. */
export async function smallestVolumeTar(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: './', type: 'directory' });
  pack.entry({ name: './keys/data-key.wrapped' }, 'vault:v1:wrapped');
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * A maker of backup services, each storing in a fresh directory named after `prefix` (its `root`) and
 * encrypting under an in-memory key for `clientId`, at the clock `now`. The directories are removed after
 * the calling file's tests.
 */
export function directoryBackupServices(prefix: string): (clientId: ClientId, now: () => Date) => Promise<{ service: BackupService; root: string }> {
  const roots: string[] = [];
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });
  return async (clientId, now) => {
    const root = await mkdtemp(join(tmpdir(), prefix));
    roots.push(root);
    const service = new BackupService({ store: new DirectoryBackupStore({ root, logger: createSilentLogger() }), keys: new MemoryKeyWrapper([clientId]), clock: { now }, logger: createSilentLogger() });
    return { service, root };
  };
}

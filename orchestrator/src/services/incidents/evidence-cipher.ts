import { constants, createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import { BACKUP_MAGIC } from '../backup/backup-envelope.ts';
import { openBackup, sealBackup } from '../backup/backup-stream.ts';

/** What an encrypted evidence bundle holds: its header says so, so a backup renamed into an incident is refused. */
export const EVIDENCE_CONTENT_TYPE = 'application/vnd.agent-fleet.incident-evidence+tar';

export interface EvidenceIdentity {
  clientId: ClientId;
  /** The bundle's file name without its extension: bound into the header, so a renamed bundle is refused. */
  bundleId: string;
}

/**
 * Encrypts a sealed archive at rest as backups are: a fresh data key wrapped under the client's own key
 * (so the client's erasure, which destroys that key, shreds every copy), the content in authenticated
 * chunks. `file` is created owner-only and must not exist; nothing is left of it when this fails.
 */
export async function encryptEvidence(plainFile: string, file: string, identity: EvidenceIdentity & { createdAt: Date; keys: KeyWrapper }): Promise<void> {
  const sealed = sealBackup(createReadStream(plainFile), {
    clientId: identity.clientId,
    backupId: identity.bundleId,
    createdAt: identity.createdAt,
    contentType: EVIDENCE_CONTENT_TYPE,
    keys: identity.keys,
  });
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await pipeline(Readable.from(sealed), handle.createWriteStream({ flush: true }));
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(file, { force: true });
    throw error;
  }
}

async function startsWithMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(BACKUP_MAGIC.length), 0, BACKUP_MAGIC.length, 0);
    return bytesRead === BACKUP_MAGIC.length && buffer.equals(BACKUP_MAGIC);
  } finally {
    await handle.close();
  }
}

/**
 * The plaintext archive of a bundle, each chunk authenticated before it is read (a corrupt or cut-off
 * bundle fails, possibly only at its end). A bundle sealed before evidence was encrypted is a plain tar
 * and is read as it is: callers check the file's recorded SHA-256 first, which pins either form.
 */
export async function openEvidence(file: string, identity: EvidenceIdentity, keys: KeyWrapper): Promise<Readable> {
  if (!(await startsWithMagic(file))) return createReadStream(file);
  const opened = await openBackup(createReadStream(file), { clientId: identity.clientId, backupId: identity.bundleId }, keys);
  if (opened.header.contentType !== EVIDENCE_CONTENT_TYPE) {
    await opened.close();
    throw new FleetError('integrity', `${identity.bundleId} is not an evidence bundle (it holds ${opened.header.contentType}): refused`);
  }
  return Readable.from(opened.plaintext);
}

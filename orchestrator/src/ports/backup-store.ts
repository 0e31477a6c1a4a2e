import type { Readable } from 'node:stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';

/** One stored backup. Its content is opaque to the store (already encrypted by the backup service). */
export interface BackupInfo {
  clientId: ClientId;
  /** `<UTC yyyymmddThhmmssZ>-<random>`: sorts by time, and says when it was taken (see backup-id.ts). */
  backupId: string;
  /** When the backup was taken, UTC ISO-8601, as encoded in its id. */
  createdAt: string;
  sizeBytes: number;
}

/**
 * Where encrypted backups live, per client: a directory by default. Writes are atomic (a reader sees a
 * whole backup or none), and nothing but the backup service's ciphertext is ever handed to it.
 */
export interface BackupStore {
  /**
   * Stores a backup from a stream of ciphertext. Nothing is visible under `backupId` until the stream
   * ended and the bytes are durable; a failed or aborted stream leaves no trace. An existing id is a
   * `conflict`.
   */
  put(clientId: ClientId, backupId: string, content: AsyncIterable<Uint8Array>): Promise<BackupInfo>;
  /** The client's backups, oldest first; empty for a client without any. Only stored backups, never other entries. */
  list(clientId: ClientId): Promise<BackupInfo[]>;
  /**
   * Streams a stored backup; `not_found` when the client has no backup with that id, `integrity` when what
   * the store holds under it is not a backup it wrote (a link, a FIFO, a client directory that is a link).
   */
  get(clientId: ClientId, backupId: string): Promise<Readable>;
  /** Deletes one backup; false when it did not exist. */
  delete(clientId: ClientId, backupId: string): Promise<boolean>;
  /** Deletes every backup of the client (closure, erasure); returns how many were deleted. */
  deleteAll(clientId: ClientId): Promise<number>;
}

import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * One operation on a client's volume at a time (backup, restore, erasure, deprovisioning), within this
 * orchestrator: a backup read while a restore swaps the volume, or written after an erasure deleted the
 * backups, would keep data it must not. A second operation is refused (`busy`, naming the first) rather
 * than queued, so that nobody waits behind a long backup without being told.
 */
export class ClientOperationGuard {
  private readonly running = new Map<ClientId, string>();

  async exclusive<T>(clientId: ClientId, operation: string, work: () => Promise<T>): Promise<T> {
    const current = this.running.get(clientId);
    if (current !== undefined) {
      throw new FleetError('busy', `${clientId}: a ${current} is in progress; try again when it has finished`, { retryable: true });
    }
    this.running.set(clientId, operation);
    try {
      return await work();
    } finally {
      this.running.delete(clientId);
    }
  }

  /** The operation running on the client's volume, if any. */
  runningOn(clientId: ClientId): string | undefined {
    return this.running.get(clientId);
  }
}

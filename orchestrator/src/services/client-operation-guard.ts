import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * One operation on a client's volume at a time (backup, restore, erasure, deprovisioning, revive, a data
 * export), within this orchestrator: a backup read while a restore swaps the volume, or written after an
 * erasure deleted the backups, would keep data it must not. A second operation is refused (`busy`, naming
 * the first) rather than queued, so that nobody waits behind a long backup without being told. The kill
 * switch never takes it.
 */
export class ClientOperationGuard {
  private readonly running = new Map<ClientId, { operation: string; done: Promise<unknown> }>();

  async exclusive<T>(clientId: ClientId, operation: string, work: () => Promise<T>): Promise<T> {
    const current = this.running.get(clientId);
    if (current !== undefined) {
      throw new FleetError('busy', `${clientId}: a ${current.operation} is in progress; try again when it has finished`, { retryable: true });
    }
    const done = Promise.resolve().then(work);
    this.running.set(clientId, { operation, done });
    try {
      return await done;
    } finally {
      this.running.delete(clientId);
    }
  }

  /** The operation running on the client's volume, if any. */
  runningOn(clientId: ClientId): string | undefined {
    return this.running.get(clientId)?.operation;
  }

  /** Resolves once the operation running on the client (if any) has ended, however it ended. */
  async ended(clientId: ClientId): Promise<void> {
    await this.running.get(clientId)?.done.catch(() => undefined);
  }
}

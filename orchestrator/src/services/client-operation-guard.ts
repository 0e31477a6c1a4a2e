import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * One operation on a client's volume at a time (backup, restore, erasure, deprovisioning, revive, a data
 * export), within this orchestrator: a backup read while a restore swaps the volume, or written after an
 * erasure deleted the backups, would keep data it must not. A second operation is refused (`busy`, naming
 * the first) rather than queued, so that nobody waits behind a long backup without being told; only an
 * operation that says how long it may wait waits, that long at most. The kill switch never takes it.
 */
export class ClientOperationGuard {
  private readonly running = new Map<ClientId, { operation: string; done: Promise<unknown> }>();

  /**
   * Runs `work` as the client's one operation. Refused as busy when another one holds the client, at once
   * or, with `waitMs`, once it has held it that long (for work that must not be lost to a routine
   * operation, such as an incident's credential rotation beside a backup).
   */
  async exclusive<T>(clientId: ClientId, operation: string, work: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
    const waitMs = options.waitMs ?? 0;
    const deadline = Date.now() + waitMs;
    for (let current = this.running.get(clientId); current !== undefined; current = this.running.get(clientId)) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.endsWithin(current.done, left))) {
        const waited = waitMs > 0 ? ` (waited ${Math.round(waitMs / 1000)} s)` : '';
        throw new FleetError('busy', `${clientId}: a ${current.operation} is in progress${waited}; try again when it has finished`, { retryable: true });
      }
    }
    const done = Promise.resolve().then(work);
    this.running.set(clientId, { operation, done });
    try {
      return await done;
    } finally {
      this.running.delete(clientId);
    }
  }

  /** Whether `done` settles within `ms`; the timer never keeps the process alive. */
  private async endsWithin(done: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      timer.unref();
    });
    try {
      return await Promise.race([done.then(() => true, () => true), timedOut]);
    } finally {
      clearTimeout(timer);
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

import type { OutboxEvent } from './outbox-events.ts';
import type { OutboxEntry } from './outbox-types.ts';

/**
 * The outbox's state as a pure reducer over its journal: given the current entries and one event, the
 * entry that event changes (a new one for an intent), or null when the event changes none.
 */
export function reduceOutbox(entries: ReadonlyMap<string, OutboxEntry>, event: OutboxEvent): OutboxEntry | null {
  switch (event.type) {
    case 'intent':
      return {
        idempotencyKey: event.key,
        status: 'pending',
        message: event.message,
        contentHash: event.contentHash,
        actor: event.actor,
        approvalStatus: event.approvalStatus,
        approvedBy: event.approvedBy,
        createdAt: event.at,
        receipt: null,
        reconciled: false,
        lastError: null,
      };
    case 'sent': {
      const entry = entries.get(event.key);
      return entry === undefined ? null : { ...entry, status: 'sent', receipt: event.receipt, reconciled: event.reconciled };
    }
    case 'held': {
      const entry = entries.get(event.key);
      return entry === undefined ? null : { ...entry, status: event.status, lastError: { category: event.category, ...event.error } };
    }
    case 'released': {
      const entry = entries.get(event.key);
      return entry === undefined ? null : { ...entry, status: 'pending' };
    }
    case 'entry':
      return event.entry;
    case 'withdrawn':
    case 'discarded': {
      const entry = entries.get(event.key);
      return entry === undefined ? null : { ...entry, status: event.type };
    }
    case 'paused':
    case 'resumed':
      // An old outbox's own pause flag. The agent mirrored every such pause into its state store (the
      // runtime paused itself when the outbox did), which is now the one flag; an unmirrored one (a crash
      // in between) only means the next refused send pauses again.
      return null;
  }
}

/** Replays a journal into its entries, keyed by idempotency key. */
export function replayOutbox(events: readonly OutboxEvent[]): Map<string, OutboxEntry> {
  const entries = new Map<string, OutboxEntry>();
  for (const event of events) {
    const changed = reduceOutbox(entries, event);
    if (changed !== null) entries.set(changed.idempotencyKey, changed);
  }
  return entries;
}

/** Finished sends whose message is kept whole through a compaction; older ones keep all but the bodies. */
export const KEEP_WHOLE_FINISHED = 1000;

/**
 * The events that reproduce a journal's entries, one per entry, for compaction. Every idempotency key
 * stays (a key the outbox forgot could be sent again), but the bodies of all but the newest
 * KEEP_WHOLE_FINISHED finished sends (sent or discarded) go: nothing sends them again, and kept for
 * ever they would grow the journal, and the memory it is read into, without bound.
 */
export function snapshotOutbox(events: readonly OutboxEvent[]): OutboxEvent[] {
  const entries = [...replayOutbox(events).values()];
  const finished = entries.filter((entry) => entry.status === 'sent' || entry.status === 'discarded');
  const stripped = new Set(finished.slice(0, Math.max(0, finished.length - KEEP_WHOLE_FINISHED)));
  return entries.map((entry) => ({
    type: 'entry',
    at: entry.createdAt,
    entry: stripped.has(entry) ? { ...entry, message: { ...entry.message, text: '', html: null } } : entry,
  }));
}

import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuditRecord } from '../../domain/audit-record.ts';
import { decodeAuditLineOrThrow } from '../audit-log/audit-codec.ts';
import { listAuditFiles } from '../audit-log/audit-files.ts';
import { followChain } from '../audit-log/chain-follower.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { lineFileLines } from '../audit-log/line-file.ts';
import { OUTBOX_FILE, parseOutboxEvent } from '../outbox/outbox-events.ts';
import { replayOutbox } from '../outbox/outbox-state.ts';
import type { OutboxEntry } from '../outbox/outbox-types.ts';
import type { StoredApproval } from '../runtime/approval-store.ts';
import { runtimePaths } from '../runtime/runtime-paths.ts';
import { readJournal, readJournalEvents } from './journal-reader.ts';

/** An event of a journal exported as it is stored (each line authenticated by its envelope). */
function jsonObject(file: string): (value: unknown) => Record<string, unknown> {
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FleetError('integrity', `${file} holds an event that is not a JSON object`);
    return value as Record<string, unknown>;
  };
}

function parseApproval(value: unknown): StoredApproval {
  const record = (value as { record?: { id?: unknown } } | null)?.record;
  if (record === undefined || typeof record.id !== 'string') throw new FleetError('integrity', 'approvals.log holds a record of an unknown shape');
  return value as StoredApproval;
}

/**
 * Everything the client's volume holds, decrypted, read without writing a byte: the audit log, the
 * approvals with their drafts and decisions, the outbox (what was sent), the settings history, the
 * agent's own state (known contacts, send history, sync progress) and the config. Safe on a
 * read-only mount and beside the running agent (its files are append-only or replaced by rename).
 */
export class VolumeReader {
  private readonly paths: ReturnType<typeof runtimePaths>;
  private readonly keys: KeyRing;
  private readonly dataDir: string;

  constructor(dataDir: string, keys: KeyRing) {
    this.dataDir = dataDir;
    this.paths = runtimePaths(dataDir);
    this.keys = keys;
  }

  /**
   * Audit records in chain order, one at a time. A record that does not authenticate, or does not chain to
   * the one before it (a line deleted, moved or edited), is an integrity error, raised before it is yielded.
   */
  auditRecords(): AsyncGenerator<AuditRecord> {
    return followChain(this.storedAuditRecords(), { fromGenesis: true });
  }

  private async *storedAuditRecords(): AsyncGenerator<AuditRecord> {
    for (const file of await listAuditFiles(this.paths.audit)) {
      for await (const line of lineFileLines(join(this.paths.audit, file.name))) {
        yield decodeAuditLineOrThrow(this.keys, line, file.name);
      }
    }
  }

  /** Every approval the agent still keeps (its latest state), oldest first. */
  async approvals(): Promise<StoredApproval[]> {
    const latest = new Map<string, StoredApproval>();
    for await (const event of readJournal(this.paths.state, 'approvals.log', 'state', this.keys, parseApproval)) {
      latest.set(event.record.id, event);
    }
    return [...latest.values()].sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
  }

  /** Every message the agent sent or meant to send, with its idempotency key and outcome, oldest first. */
  async outbox(): Promise<OutboxEntry[]> {
    const entries = replayOutbox(await readJournalEvents(this.paths.outbox, OUTBOX_FILE, 'outbox', this.keys, parseOutboxEvent));
    return [...entries.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Every settings version (who changed what, when and why, with the whole config), oldest first, one at a time. */
  settingsVersions(): AsyncGenerator<Record<string, unknown>> {
    return readJournal(this.paths.state, 'settings.log', 'settings', this.keys, jsonObject('settings.log'));
  }

  /** The agent's own state events (known contacts, send history, pause, sync cursor, message progress), oldest first, one at a time. */
  stateEvents(): AsyncGenerator<Record<string, unknown>> {
    return readJournal(this.paths.state, 'state.log', 'state', this.keys, jsonObject('state.log'));
  }
}

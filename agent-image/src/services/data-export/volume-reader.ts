import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuditRecord } from '../../domain/audit-record.ts';
import { decodeAuditLineOrThrow } from '../audit-log/audit-codec.ts';
import { listAuditFiles } from '../audit-log/audit-files.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { OUTBOX_FILE, parseOutboxEvent } from '../outbox/outbox-events.ts';
import { replayOutbox } from '../outbox/outbox-state.ts';
import type { OutboxEntry } from '../outbox/outbox-types.ts';
import type { StoredApproval } from '../runtime/approval-store.ts';
import { runtimePaths } from '../runtime/runtime-paths.ts';
import { readJournal } from './journal-reader.ts';
import { completeLines } from './line-stream.ts';

const MAX_CONFIG_BYTES = 1024 * 1024;

function parseApproval(value: unknown): StoredApproval {
  const record = (value as { record?: { id?: unknown } } | null)?.record;
  if (record === undefined || typeof record.id !== 'string') throw new FleetError('integrity', 'approvals.log holds a record of an unknown shape');
  return value as StoredApproval;
}

/**
 * Everything the client's volume holds, decrypted, read without writing a byte: the audit log, the
 * approvals with their drafts and decisions, the outbox (what was sent) and the config. Safe on a
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

  /** Audit records in chain order, one at a time; a record that does not authenticate is an integrity error. */
  async *auditRecords(): AsyncGenerator<AuditRecord> {
    for (const file of await listAuditFiles(this.paths.audit)) {
      for await (const line of completeLines(join(this.paths.audit, file.name))) {
        yield decodeAuditLineOrThrow(this.keys, line, file.name);
      }
    }
  }

  /** Every approval the agent still keeps (its latest state), oldest first. */
  async approvals(): Promise<StoredApproval[]> {
    const latest = new Map<string, StoredApproval>();
    for (const event of await readJournal(this.paths.state, 'approvals.log', 'state', this.keys, parseApproval)) {
      latest.set(event.record.id, event);
    }
    return [...latest.values()].sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
  }

  /** Every message the agent sent or meant to send, with its idempotency key and outcome, oldest first. */
  async outbox(): Promise<OutboxEntry[]> {
    const entries = replayOutbox(await readJournal(this.paths.outbox, OUTBOX_FILE, 'outbox', this.keys, parseOutboxEvent));
    return [...entries.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** The client config the agent was last given (`config.yaml` in the volume), or null. */
  async configYaml(): Promise<string | null> {
    try {
      const text = await readFile(join(this.dataDir, 'config.yaml'), 'utf8');
      if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw new FleetError('integrity', 'config.yaml is larger than 1 MiB');
      return text;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}

import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { hashRecord, type AuditCheckpoint, type AuditRecord } from './audit-record.ts';

/**
 * How a chain is broken. `seq` names the first record the break concerns:
 * - `edited`: record `seq` no longer matches its own hash, or its successor's link to it;
 * - `gap`: record `seq` is missing (deleted);
 * - `reordered`: record `seq` appears after a later record;
 * - `duplicate`: record `seq` appears twice;
 * - `truncated`: the log ends before the checkpoint; `seq` is the first missing record;
 * - `rewritten`: the record at the checkpoint's seq has a different hash;
 * - `undecryptable`: ciphertext or envelope of record `seq` fails authentication (set by storage);
 * - `malformed`: record `seq` decrypts but is not a valid record (set by storage).
 */
export type ChainBreakKind =
  | 'edited'
  | 'gap'
  | 'reordered'
  | 'duplicate'
  | 'truncated'
  | 'rewritten'
  | 'undecryptable'
  | 'malformed';

export interface ChainBreak {
  kind: ChainBreakKind;
  seq: number;
  message: string;
}

export type ChainVerification =
  | { ok: true; count: number; head: AuditCheckpoint | null }
  | { ok: false; count: number; break: ChainBreak };

/**
 * A checkpoint names a record (seq 1 or later) by its sha256 hash. Any other seq could never be met while
 * reading, so the comparison with the log would silently not happen and a rewritten log would pass.
 */
function checkCheckpoint(checkpoint: AuditCheckpoint | null, what: string): void {
  if (checkpoint === null) return;
  if (!Number.isSafeInteger(checkpoint.seq) || checkpoint.seq < 1)
    throw new FleetError('invalid_input', `the ${what} seq must be a positive integer, not ${String(checkpoint.seq)}`);
  if (typeof checkpoint.hash !== 'string' || !/^[0-9a-f]{64}$/.test(checkpoint.hash))
    throw new FleetError('invalid_input', `the ${what} hash must be 64 lowercase hex characters`);
}

/**
 * Verifies a chain record by record, so a whole log never has to be held in memory. After the first
 * break it keeps reading only to tell a deleted record from one that was moved later.
 */
export class ChainVerifier {
  private previous: AuditCheckpoint | null;
  private expectedSeq: number;
  private count = 0;
  private firstBreak: ChainBreak | null = null;
  private readonly seenHashes = new Map<number, string>();
  private readonly expectedHead: AuditCheckpoint | null;
  private hashAtCheckpoint: string | undefined;
  /** Where the checkpoint's record and the last chained record were read, for the messages. */
  private whereAtCheckpoint: string | undefined;
  private whereLast: string | undefined;

  /**
   * `expectedHead`: the last checkpoint taken outside the container. `anchor`: the record before the
   * first one pushed, when verifying from the middle of a log.
   */
  constructor(options: { expectedHead?: AuditCheckpoint | null; anchor?: AuditCheckpoint | null } = {}) {
    checkCheckpoint(options.expectedHead ?? null, 'checkpoint');
    checkCheckpoint(options.anchor ?? null, 'anchor');
    this.previous = options.anchor ?? null;
    this.expectedSeq = this.previous === null ? 1 : this.previous.seq + 1;
    this.expectedHead = options.expectedHead ?? null;
  }

  /** Records a break found outside the chain logic (decryption or parsing), if it is the first. */
  fail(kind: ChainBreakKind, seq: number, message: string): void {
    this.firstBreak ??= { kind, seq, message };
  }

  /**
   * The next record in stored order. `where` (e.g. "audit-2026-01-07.log line 3") is named in the message
   * of a break found at this record, so an auditor can go to the line.
   */
  push(record: AuditRecord, where?: string): void {
    const at = where === undefined ? '' : ` (${where})`;
    this.count++;
    if (this.firstBreak !== null) {
      if (this.firstBreak.kind === 'gap' && record.seq === this.firstBreak.seq) {
        this.firstBreak = {
          kind: 'reordered',
          seq: record.seq,
          message: `record ${record.seq} appears after a later record${at}`,
        };
      }
      return;
    }
    if (hashRecord(record) !== record.hash) {
      this.fail('edited', record.seq, `record ${record.seq} does not match its hash: its content was changed after it was written${at}`);
      return;
    }
    if (record.seq !== this.expectedSeq) {
      if (record.seq > this.expectedSeq) {
        this.fail('gap', this.expectedSeq, `record ${this.expectedSeq} is missing: record ${record.seq} follows record ${this.expectedSeq - 1}${at}`);
      } else if (this.seenHashes.get(record.seq) === record.hash) {
        this.fail('duplicate', record.seq, `record ${record.seq} appears a second time, after record ${this.expectedSeq - 1}${at}`);
      } else {
        this.fail('reordered', record.seq, `record ${record.seq} appears after record ${this.expectedSeq - 1}${at}`);
      }
      return;
    }
    const expectedPrev = this.previous === null ? GENESIS_HASH : this.previous.hash;
    if (record.prev_hash !== expectedPrev) {
      const culprit = this.previous === null ? record.seq : this.previous.seq;
      this.fail('edited', culprit, `record ${record.seq} does not chain to record ${culprit}: one of them was altered${at}`);
      return;
    }
    if (record.seq === this.expectedHead?.seq) {
      this.hashAtCheckpoint = record.hash;
      this.whereAtCheckpoint = where;
    }
    this.whereLast = where;
    this.seenHashes.set(record.seq, record.hash);
    // Only a recent window is kept: enough to tell a duplicated record from a reordered one.
    if (this.seenHashes.size > 4096) this.seenHashes.delete(this.seenHashes.keys().next().value as number);
    this.previous = { seq: record.seq, hash: record.hash };
    this.expectedSeq = record.seq + 1;
  }

  /** The verdict, including the comparison with the checkpoint given to the constructor. */
  finish(): ChainVerification {
    const head = this.expectedHead;
    if (this.firstBreak === null && head !== null) {
      const lastSeq = this.previous?.seq ?? 0;
      if (lastSeq < head.seq) {
        const last = this.whereLast === undefined ? '' : ` (${this.whereLast})`;
        this.fail('truncated', lastSeq + 1, `log ends at record ${lastSeq}${last} but the checkpoint is at record ${head.seq}: ${seqRange(lastSeq + 1, head.seq)} removed`);
      } else if (this.hashAtCheckpoint !== undefined && this.hashAtCheckpoint !== head.hash) {
        const at = this.whereAtCheckpoint === undefined ? '' : ` (${this.whereAtCheckpoint})`;
        this.fail('rewritten', head.seq, `record ${head.seq}${at} differs from the checkpoint: the history up to it was rebuilt`);
      }
    }
    if (this.firstBreak !== null) return { ok: false, count: this.count, break: this.firstBreak };
    return { ok: true, count: this.count, head: this.previous };
  }
}

function seqRange(first: number, last: number): string {
  return first === last ? `record ${first} was` : `records ${first} to ${last} were`;
}

/** Verifies a whole chain held in memory. */
export function verifyChain(
  records: Iterable<AuditRecord>,
  expectedHead?: AuditCheckpoint | null,
  anchor: AuditCheckpoint | null = null,
): ChainVerification {
  const verifier = new ChainVerifier({ expectedHead, anchor });
  for (const record of records) verifier.push(record);
  return verifier.finish();
}

import { canonicalJson, sha256Hex, GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { ERASABLE_FIELDS, type ErasableField, type FieldSeal, type OpsLogEntry } from './ops-log-entry.ts';

/** The ops-log actions of a client's deletion: erasure on request, and a purge (the retention period's end). */
export const ERASE_ACTION = 'erase';
export const PURGE_ACTION = 'deprovision-purge';

/**
 * The entry a start appends when it finds no head checkpoint beside a log with entries and makes one from
 * the log's head: from there on the checkpoint guards the log; what the log held up to then is trusted on
 * first use, and the entry keeps that on the record (a deleted checkpoint is otherwise indistinguishable
 * from the first start with checkpoints).
 */
export const OPS_LOG_ANCHORED_ACTION = 'ops-log-anchored';

/** The actions after which a client's entries may carry erased fields. */
export const CLIENT_DELETION_ACTIONS: ReadonlySet<string> = new Set([ERASE_ACTION, PURGE_ACTION]);

const fieldDigest = (salt: string, value: unknown): string => sha256Hex(canonicalJson({ salt, value }));

/** A seal read back from storage is untrusted: a malformed one gives a digest no entry hashes to. */
const MALFORMED = 'malformed seal';

function digestOf(seal: FieldSeal | undefined, value: unknown): string {
  if (typeof seal !== 'object' || seal === null) return MALFORMED;
  if ('digest' in seal) return typeof seal.digest === 'string' ? seal.digest : MALFORMED;
  return typeof seal.salt === 'string' ? fieldDigest(seal.salt, value) : MALFORMED;
}

/** A field's seal from seals read back from storage (null, an array or a string there: no seal). */
function sealOf(seals: unknown, field: ErasableField): FieldSeal | undefined {
  if (typeof seals !== 'object' || seals === null || Array.isArray(seals)) return undefined;
  return (seals as Partial<Record<ErasableField, FieldSeal>>)[field];
}

/** Whether a field was erased (its seal holds the digest alone). */
export const isErased = (seal: FieldSeal | undefined): boolean => typeof seal === 'object' && seal !== null && 'digest' in seal;

/**
 * The hash of an ops-log entry covers every field but the hash itself, and chains to the previous one.
 * With seals, it covers the erasable fields through their salted digests (which survive an erasure).
 */
export function hashOpsLogEntry(entry: Omit<OpsLogEntry, 'hash'>): string {
  const { seq, at, action, clientId, outcome, prevHash, seals } = entry;
  if (seals === undefined) {
    return sha256Hex(canonicalJson({ seq, at, actor: entry.actor, action, clientId, reason: entry.reason, outcome, details: entry.details, prevHash }));
  }
  const digests = Object.fromEntries(ERASABLE_FIELDS.map((field) => [field, digestOf(sealOf(seals, field), entry[field])]));
  return sha256Hex(canonicalJson({ format: 2, seq, at, action, clientId, outcome, digests, prevHash }));
}

/** Fresh seals for a new entry; `salt` gives random salts (one per field: an erased field's digest then has no known salt). */
export function newSeals(salt: () => string): Record<ErasableField, FieldSeal> {
  return { actor: { salt: salt() }, reason: { salt: salt() }, details: { salt: salt() } };
}

/** What an erased field reads as. */
const ERASED_VALUES = { actor: 'erased', reason: null, details: {} } as const satisfies { [F in ErasableField]: OpsLogEntry[F] };

/**
 * The entry with `fields` erased: each value replaced by a placeholder and its salt by the digest the hash
 * covers, so the entry still hashes to the same value and nothing can be recomputed from it. Entries without
 * seals are returned unchanged (their hash covers the values).
 */
export function eraseFields(entry: OpsLogEntry, fields: readonly ErasableField[], at: Date): OpsLogEntry {
  const { seals } = entry;
  if (seals === undefined || fields.length === 0) return entry;
  const erasedSeals = { ...seals };
  const erased: OpsLogEntry = { ...entry, seals: erasedSeals, erasedAt: entry.erasedAt ?? at.toISOString() };
  for (const field of fields) {
    erasedSeals[field] = { digest: digestOf(sealOf(seals, field), entry[field]) };
    Object.assign(erased, { [field]: ERASED_VALUES[field] });
  }
  return erased;
}

/** The log's last entry, as a checkpoint kept outside the database records it. */
export interface OpsLogHead {
  seq: number;
  hash: string;
}

export type OpsLogVerification =
  | {
      valid: true;
      entries: number;
      head: string;
      /**
       * The seq of the last `ops-log-anchored` entry, when there is one: a start found no head checkpoint and
       * anchored the log at the entry before it, so a rewrite of the log up to there, made before that start,
       * would not show.
       */
      anchoredAt?: number;
    }
  | {
      valid: false;
      entries: number;
      firstBadSeq: number;
      problem: 'edited' | 'gap' | 'reordered' | 'broken-link' | 'erased-without-deletion' | 'truncated' | 'head-mismatch';
      /** The head checkpoint's seq, when the log disagrees with it (`truncated`, `head-mismatch`). */
      checkpointSeq?: number;
    };

/**
 * Detects any edited, deleted or reordered entry of the (whole) ops log, and erased fields in an entry whose
 * client was not deleted after it (erasure is the deletion's, not a way to hide what someone did).
 *
 * With `checkpoint` (the head recorded outside the database after an append), also a log that ends before
 * it (`truncated`: its last entries deleted) or holds another entry at its seq (`head-mismatch`: rewritten,
 * hashes recomputed). The log may run past the checkpoint by any number of entries, as long as it links: a
 * crash between an append's commit and the checkpoint's write leaves it one behind, checkpoint writes that
 * failed (they do not fail the append) several, until an append's write succeeds. The entries past it are
 * then only chain-checked: a cut back to the checkpoint's seq is not seen. Read the checkpoint before the
 * entries, so that an append between the two reads is not taken for a truncation.
 */
export function verifyOpsLog(entries: readonly OpsLogEntry[], checkpoint: OpsLogHead | null = null): OpsLogVerification {
  const verifier = new OpsLogVerifier(checkpoint);
  verifier.add(entries);
  return verifier.result();
}

/**
 * `verifyOpsLog` over the log read page by page (in seq order, as `Registry.readOpsLogPages` gives it):
 * memory bounded by a page and the clients with erased entries, not by the log's length.
 */
export async function verifyOpsLogPages(pages: AsyncIterable<readonly OpsLogEntry[]>, checkpoint: OpsLogHead | null = null): Promise<OpsLogVerification> {
  const verifier = new OpsLogVerifier(checkpoint);
  for await (const page of pages) verifier.add(page);
  return verifier.result();
}

type ChainProblem = Extract<OpsLogVerification, { valid: false }>['problem'];

/**
 * The checks of `verifyOpsLog`, fed the log in order a part at a time, with the same answer as over the
 * whole log at once: a break of the chain comes first (the entries after it are only counted), then a
 * disagreement with the checkpoint, then an erasure without a later deletion.
 */
class OpsLogVerifier {
  private readonly checkpoint: OpsLogHead | null;
  private count = 0;
  private previousHash = GENESIS_HASH;
  private chainBroken: { firstBadSeq: number; problem: ChainProblem } | null = null;
  private checkpointMatched: boolean | null = null;
  /** Per client, its first entry with erased fields since its last deletion (null: entries of no client). */
  private readonly erasedSinceDeletion = new Map<string | null, number>();
  private anchoredAt: number | undefined;

  constructor(checkpoint: OpsLogHead | null) {
    this.checkpoint = checkpoint;
  }

  add(entries: readonly OpsLogEntry[]): void {
    for (const entry of entries) {
      this.count += 1;
      if (this.chainBroken === null) this.check(entry);
    }
  }

  private check(entry: OpsLogEntry): void {
    const expectedSeq = this.count;
    if (entry.seq !== expectedSeq) {
      this.chainBroken = { firstBadSeq: expectedSeq, problem: entry.seq < expectedSeq ? 'reordered' : 'gap' };
      return;
    }
    if (!hashesTo(entry) || !erasedFieldsEmpty(entry)) {
      this.chainBroken = { firstBadSeq: entry.seq, problem: 'edited' };
      return;
    }
    if (entry.prevHash !== this.previousHash) {
      this.chainBroken = { firstBadSeq: entry.seq, problem: 'broken-link' };
      return;
    }
    this.previousHash = entry.hash;
    if (this.checkpoint !== null && entry.seq === this.checkpoint.seq) this.checkpointMatched = entry.hash === this.checkpoint.hash;
    this.noteErasures(entry);
    if (entry.action === OPS_LOG_ANCHORED_ACTION && entry.clientId === null) this.anchoredAt = entry.seq;
  }

  /** Erased fields stand only when their client's deletion comes later in the log (the entry's own does not count). */
  private noteErasures(entry: OpsLogEntry): void {
    const seals = entry.seals;
    const erased = seals !== undefined && ERASABLE_FIELDS.some((field) => isErased(sealOf(seals, field)));
    if (entry.clientId !== null && CLIENT_DELETION_ACTIONS.has(entry.action) && entry.outcome === 'success') this.erasedSinceDeletion.delete(entry.clientId);
    if (erased && !this.erasedSinceDeletion.has(entry.clientId)) this.erasedSinceDeletion.set(entry.clientId, entry.seq);
  }

  result(): OpsLogVerification {
    const entries = this.count;
    if (this.chainBroken !== null) return { valid: false, entries, ...this.chainBroken };
    const checkpoint = this.checkpoint;
    if (checkpoint !== null && checkpoint.seq > entries) {
      return { valid: false, entries, firstBadSeq: entries + 1, problem: 'truncated', checkpointSeq: checkpoint.seq };
    }
    if (checkpoint !== null && !(checkpoint.seq < 1) && this.checkpointMatched !== true) {
      return { valid: false, entries, firstBadSeq: checkpoint.seq, problem: 'head-mismatch', checkpointSeq: checkpoint.seq };
    }
    let unexplained: number | null = null;
    for (const seq of this.erasedSinceDeletion.values()) if (unexplained === null || seq < unexplained) unexplained = seq;
    if (unexplained !== null) return { valid: false, entries, firstBadSeq: unexplained, problem: 'erased-without-deletion' };
    return { valid: true, entries, head: this.previousHash, ...(this.anchoredAt === undefined ? {} : { anchoredAt: this.anchoredAt }) };
  }
}

/** Whether an entry read back from storage hashes to its hash; one whose fields JSON cannot hold does not. */
function hashesTo(entry: OpsLogEntry): boolean {
  try {
    return hashOpsLogEntry(entry) === entry.hash;
  } catch {
    return false;
  }
}

/** An erased field's value is no longer covered by the hash, so it must read as erased: nothing can be written there. */
function erasedFieldsEmpty(entry: OpsLogEntry): boolean {
  const { seals } = entry;
  if (seals === undefined) return true;
  return ERASABLE_FIELDS.every((field) => !isErased(sealOf(seals, field)) || sameJson(entry[field], ERASED_VALUES[field]));
}

function sameJson(value: unknown, expected: unknown): boolean {
  try {
    return canonicalJson(value) === canonicalJson(expected);
  } catch {
    return false;
  }
}

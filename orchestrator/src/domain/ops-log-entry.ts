/** The fields of an ops-log entry that can name people (a client admin, a free-text reason, the details). */
export const ERASABLE_FIELDS = ['actor', 'reason', 'details'] as const;
export type ErasableField = (typeof ERASABLE_FIELDS)[number];

/** A field's seal: the salt its digest is made with while the value is kept, or only the digest once erased. */
export type FieldSeal = { salt: string } | { digest: string };

/** One entry of the orchestrator's append-only, hash-chained log of admin actions. */
export interface OpsLogEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  clientId: string | null;
  reason: string | null;
  outcome: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /**
   * Entries written since erasable fields exist: the hash covers a salted digest of each erasable field
   * instead of its value, so a client's deletion can erase the value and the chain still verifies.
   * Absent on entries written before (their hash covers the values; they cannot be erased).
   */
  seals?: Record<ErasableField, FieldSeal> | undefined;
  /** When erasable fields of the entry were erased (its client's erasure or purge). */
  erasedAt?: string | undefined;
}

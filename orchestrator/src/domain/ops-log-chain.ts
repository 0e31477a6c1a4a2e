import { canonicalJson, sha256Hex, GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import type { OpsLogEntry } from './ops-log-entry.ts';

/** The hash of an ops-log entry covers every field but the hash itself, and chains to the previous one. */
export function hashOpsLogEntry(entry: Omit<OpsLogEntry, 'hash'>): string {
  return sha256Hex(
    canonicalJson({
      seq: entry.seq,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      clientId: entry.clientId,
      reason: entry.reason,
      outcome: entry.outcome,
      details: entry.details,
      prevHash: entry.prevHash,
    }),
  );
}

export type OpsLogVerification =
  | { valid: true; entries: number; head: string }
  | { valid: false; entries: number; firstBadSeq: number; problem: 'edited' | 'gap' | 'reordered' | 'broken-link' };

/** Detects any edited, deleted or reordered entry of the (whole) ops log. */
export function verifyOpsLog(entries: readonly OpsLogEntry[]): OpsLogVerification {
  let previousHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const entry of entries) {
    if (entry.seq !== expectedSeq) {
      return { valid: false, entries: entries.length, firstBadSeq: expectedSeq, problem: entry.seq < expectedSeq ? 'reordered' : 'gap' };
    }
    if (hashOpsLogEntry(entry) !== entry.hash) {
      return { valid: false, entries: entries.length, firstBadSeq: entry.seq, problem: 'edited' };
    }
    if (entry.prevHash !== previousHash) {
      return { valid: false, entries: entries.length, firstBadSeq: entry.seq, problem: 'broken-link' };
    }
    previousHash = entry.hash;
    expectedSeq += 1;
  }
  return { valid: true, entries: entries.length, head: previousHash };
}

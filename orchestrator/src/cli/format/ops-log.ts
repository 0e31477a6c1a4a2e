import { isErased, type OpsLogVerification } from '../../domain/ops-log-chain.ts';
import { ERASABLE_FIELDS } from '../../domain/ops-log-entry.ts';
import type { OpsLogEntry } from '../../ports/registry.ts';

/** Which fields of the entry its client's deletion erased, and when. */
function erasure(entry: OpsLogEntry): string {
  const fields = ERASABLE_FIELDS.filter((field) => isErased(entry.seals?.[field]));
  return entry.erasedAt === undefined || fields.length === 0 ? '' : ` [${fields.join(', ')} erased ${entry.erasedAt.slice(0, 10)}]`;
}

/** `fleet ops-log show`: one line per entry, oldest first. */
export function formatOpsLog(entries: readonly OpsLogEntry[]): string {
  return entries
    .map(
      (e) =>
        `${e.seq} ${e.at} ${e.actor} ${e.action} ${e.clientId ?? '-'} ${e.outcome}${e.reason ? ` (${e.reason})` : ''}${erasure(e)}`,
    )
    .join('\n');
}

const PROBLEMS: Record<Extract<OpsLogVerification, { valid: false }>['problem'], string> = {
  edited: 'edited',
  gap: 'gap',
  reordered: 'reordered',
  'broken-link': 'broken-link',
  truncated:
    'the log ends before its head checkpoint (its last entries deleted, or the database restored from an older backup). A deliberate restore: keep ops-log-head.json in the fleet home with the restore records, move it away and restart (the log is anchored at its restored head); otherwise treat it as tampering',
  'head-mismatch':
    'the entry differs from its head checkpoint (the log rewritten from there, its hashes recomputed, or the database restored from another backup). A deliberate restore: keep ops-log-head.json with the restore records, move it away and restart; otherwise treat it as tampering',
  'erased-without-deletion':
    "fields erased although the entry's client was not deleted after it (an erasure or purge that did not finish? run it again)",
};

export function formatOpsLogVerification(result: OpsLogVerification): string {
  return result.valid
    ? `ops log intact: ${result.entries} entries, head ${result.head.slice(0, 16)}…`
    : `OPS LOG TAMPERED at seq ${result.firstBadSeq}: ${PROBLEMS[result.problem]}${result.checkpointSeq === undefined ? '' : ` (checkpoint at seq ${result.checkpointSeq})`}`;
}

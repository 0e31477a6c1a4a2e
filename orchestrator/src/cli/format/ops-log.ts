import { isErased, type OpsLogVerification } from '../../domain/ops-log-chain.ts';
import { ERASABLE_FIELDS } from '../../domain/ops-log-entry.ts';
import type { OpsLogEntry } from '../../ports/registry.ts';

/** Which fields of the entry its client's deletion erased, and when. */
function erasure(entry: OpsLogEntry): string {
  const fields = ERASABLE_FIELDS.filter((field) => isErased(entry.seals?.[field]));
  return entry.erasedAt === undefined || fields.length === 0 ? '' : ` [${fields.join(', ')} erased ${entry.erasedAt.slice(0, 10)}]`;
}

/**
 * A field on an entry's line with its line breaks and tabs shown as escapes. The CLI's terminal escaping
 * leaves line feed and tab as they are (they lay out the output), and a reason is free text that may hold
 * several lines: each would print as a line of its own, e.g. a forged entry an auditor reads as the log's.
 */
function oneLine(value: unknown): string {
  return String(value).replace(/[\t\n\r\u000b\u000c\u0085\u2028\u2029]/g, (character) => `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** `fleet ops-log show`: one line per entry, oldest first. */
export function formatOpsLog(entries: readonly OpsLogEntry[]): string {
  return entries
    .map((e) => {
      const fields = [e.seq, e.at, e.actor, e.action, e.clientId ?? '-', e.outcome].map(oneLine).join(' ');
      return `${fields}${e.reason ? ` (${oneLine(e.reason)})` : ''}${erasure(e)}`;
    })
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

/** What an auditor must know of a log that verifies: where its head checkpoint was last made by trust on first use. */
function anchoring(anchoredAt: number | undefined): string {
  if (anchoredAt === undefined) return '';
  return `\nnote: at seq ${anchoredAt} a start found no head checkpoint and anchored the log there (ops-log-anchored): a rewrite of the entries before it, made before that start, would not show. Unless it was the first start with checkpoints or a deliberate re-anchoring, find out why the checkpoint was gone`;
}

export function formatOpsLogVerification(result: OpsLogVerification): string {
  return result.valid
    ? `ops log intact: ${result.entries} entries, head ${result.head.slice(0, 16)}…${anchoring(result.anchoredAt)}`
    : `OPS LOG TAMPERED at seq ${result.firstBadSeq}: ${PROBLEMS[result.problem] ?? oneLine(result.problem)}${result.checkpointSeq === undefined ? '' : ` (checkpoint at seq ${result.checkpointSeq})`}`;
}

import type { OpsLogVerification } from '../../domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../ports/registry.ts';

/** `fleet ops-log show`: one line per entry, oldest first. */
export function formatOpsLog(entries: readonly OpsLogEntry[]): string {
  return entries
    .map(
      (e) =>
        `${e.seq} ${e.at} ${e.actor} ${e.action} ${e.clientId ?? '-'} ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`,
    )
    .join('\n');
}

export function formatOpsLogVerification(result: OpsLogVerification): string {
  return result.valid
    ? `ops log intact: ${result.entries} entries, head ${result.head.slice(0, 16)}…`
    : `OPS LOG TAMPERED: ${result.problem} at seq ${result.firstBadSeq}`;
}

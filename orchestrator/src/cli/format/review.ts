import type { ReviewQueueEntry } from '../../services/review-queue.ts';

/** "3d 4h", "2h 5m", "40s": how long something has waited, coarse. */
export function formatAge(sinceIso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(sinceIso);
  if (!Number.isFinite(ms)) return '?';
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m`;
  return `${seconds}s`;
}

/**
 * A field of the agent's answer on one row: the line breaks and tabs it may hold shown as escapes. The
 * terminal escaping of the CLI's output leaves line feed and tab as they are (they lay out a table), so a
 * message id or reason holding one would otherwise print rows of its own, e.g. a forged entry or a
 * forged "nothing is waiting" line.
 */
function oneRow(text: string): string {
  return text.replace(/[\t\n\u2028\u2029]/g, (character) => `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** `fleet review list`: one line per parked message, oldest first, with its reason, age and whether its retry is used; no content. */
export function formatReviewQueue(clientId: string, entries: readonly ReviewQueueEntry[], now: Date): string {
  if (entries.length === 0) return `${clientId}: nothing is waiting for review.`;
  const rows = entries.map((entry) => ({
    reason: oneRow(entry.reason),
    age: formatAge(entry.since, now),
    retry: typeof entry.retriedFrom === 'string' ? 'used' : 'left',
    messageId: oneRow(entry.messageId),
  }));
  const reasonWidth = rows.reduce((width, row) => Math.max(width, row.reason.length), 'REASON'.length);
  const lines = [`${'REASON'.padEnd(reasonWidth)}  AGE       RETRY  MESSAGE`];
  for (const row of rows) lines.push(`${row.reason.padEnd(reasonWidth)}  ${row.age.padEnd(8)}  ${row.retry.padEnd(5)}  ${row.messageId}`);
  lines.push(`${entries.length} message(s) waiting for review; open them in the client's mailbox.`);
  const client = oneRow(clientId);
  lines.push(`Then: fleet review handled ${client} <message>, or fleet review retry ${client} <message> (once per message).`);
  return lines.join('\n');
}

/** `fleet review handled|retry`: what was done, or that it had been done already. */
export function formatReviewResolved(result: { messageId: string; resolution: 'handled' | 'retry'; changed: boolean }): string {
  const id = oneRow(result.messageId);
  if (result.resolution === 'handled') {
    return result.changed ? `${id}: marked handled; it has left the review queue.` : `${id}: was already marked handled; nothing changed.`;
  }
  return result.changed
    ? `${id}: the agent will process it again, once; if it is parked again, only "fleet review handled" remains.`
    : `${id}: was already given back to the agent; nothing changed.`;
}

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

/** `fleet review list`: one line per parked message, oldest first, with its reason and age; no content. */
export function formatReviewQueue(clientId: string, entries: readonly ReviewQueueEntry[], now: Date): string {
  if (entries.length === 0) return `${clientId}: nothing is waiting for review.`;
  const reasonWidth = Math.max(...entries.map((entry) => entry.reason.length), 'REASON'.length);
  const lines = [`${'REASON'.padEnd(reasonWidth)}  AGE       MESSAGE`];
  for (const entry of entries) lines.push(`${entry.reason.padEnd(reasonWidth)}  ${formatAge(entry.since, now).padEnd(8)}  ${entry.messageId}`);
  lines.push(`${entries.length} message(s) waiting for review; open them in the client's mailbox.`);
  return lines.join('\n');
}

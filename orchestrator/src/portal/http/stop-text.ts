import type { ClientStatusView } from '../client-gateway.ts';

/**
 * When and by whom the agent was stopped, as words to follow "stopped" ("since Tue, 10 Mar 2026, 12:00
 * UTC, by you"); '' when the portal knows neither. `when` formats an ISO time; `viewer` is the admin reading.
 */
export function stoppedSinceText(status: ClientStatusView | null, viewer: string, when: (iso: string) => string): string {
  if (!status?.killed) return '';
  const parts: string[] = [];
  if (status.stoppedAt) parts.push(`since ${when(status.stoppedAt)}`);
  const by = status.stoppedBy;
  if (by?.kind === 'agency') parts.push('by the agency');
  else if (by?.kind === 'client-admin') parts.push(by.email === viewer.toLowerCase() ? 'by you' : `by ${by.email}`);
  return parts.join(', ');
}

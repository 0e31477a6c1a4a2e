import type { AccountClosure, ClientStatusView } from '../client-gateway.ts';
import { adminsMayRevive } from '../stop-rights.ts';

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

/**
 * Why the client's admins cannot restart a stop, in words ("The agency stopped the agent on …"), for a stop
 * that stop-rights.ts keeps for the agency: begun by it, joined by it, or of an author not known.
 */
export function agencyStopText(status: ClientStatusView, viewer: string, when: (iso: string) => string): string {
  const on = (iso: string | null | undefined) => (iso ? ` on ${when(iso)}` : '');
  const by = status.stoppedBy;
  if (by?.kind === 'client-admin') {
    const who = by.email === viewer.toLowerCase() ? 'You' : by.email;
    return `${who} stopped the agent${on(status.stoppedAt)}, and the agency stopped it too${on(status.agencyStoppedAt)}.`;
  }
  if (by?.kind === 'agency') return `The agency stopped the agent${on(status.stoppedAt)}.`;
  return `The agent was stopped${on(status.stoppedAt)}, and the portal cannot tell by whom.`;
}

/** Whether the revive page offers its button: a stop of an open account that the client's own admins made. */
export function revivableByAdmins(status: ClientStatusView | null): boolean {
  if (!status?.killed || status.closure) return false;
  return adminsMayRevive({ by: status.stoppedBy ?? null, agencyStoppedAt: status.agencyStoppedAt ?? null });
}

/** What a closed account's pages say of its agent ("is closed: its agent was removed"). */
export function closureText(closure: AccountClosure): string {
  return closure === 'closing' ? 'is being closed: its agent is being removed' : 'is closed: its agent was removed';
}

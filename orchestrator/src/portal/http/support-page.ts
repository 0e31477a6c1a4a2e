import type { SupportRequest } from '../client-gateway.ts';

/**
 * The most requests of one kind the page lists. Pending requests are the agency's to create, so a flood of
 * them (or years of history) must not make the page unbounded; active grants are all listed, as each is
 * approved by the client's own admins and each needs its "End access now" button.
 */
export const SUPPORT_LIST_LIMIT = 50;

/** A request that is over, with what came of it in plain words. */
export interface EndedRequest extends SupportRequest {
  outcome: string;
}

export interface SupportPageModel {
  /** Newest first, at most SUPPORT_LIST_LIMIT. */
  pending: SupportRequest[];
  /** Pending requests not listed. */
  morePending: number;
  /** Access open now, newest first: every one. */
  active: SupportRequest[];
  /** Newest first, at most SUPPORT_LIST_LIMIT. */
  ended: EndedRequest[];
  moreEnded: number;
}

function outcomeOf(request: SupportRequest): string {
  const approved = request.approvedBy !== null;
  if (request.state === 'revoked') return approved ? 'Ended early' : 'Not approved';
  return approved ? 'Ended' : 'Not answered in time';
}

/** The support page's lists from the client's requests (oldest first, as the gateway gives them). */
export function supportPage(requests: readonly SupportRequest[]): SupportPageModel {
  const newestFirst = [...requests].reverse();
  const pending = newestFirst.filter((request) => request.state === 'pending');
  const ended = newestFirst.filter((request) => request.state === 'expired' || request.state === 'revoked');
  return {
    pending: pending.slice(0, SUPPORT_LIST_LIMIT),
    morePending: Math.max(0, pending.length - SUPPORT_LIST_LIMIT),
    active: newestFirst.filter((request) => request.state === 'active'),
    ended: ended.slice(0, SUPPORT_LIST_LIMIT).map((request) => ({ ...request, outcome: outcomeOf(request) })),
    moreEnded: Math.max(0, ended.length - SUPPORT_LIST_LIMIT),
  };
}

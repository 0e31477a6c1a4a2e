import type { ApprovalStatus } from '../audit-record.ts';

/**
 * How the agent marks mail no human wrote or approved, so that other auto-responders (vacation notices,
 * ticket systems, another agent) do not answer it and no reply loop starts:
 *   Auto-Submitted (RFC 3834 §5): `auto-replied` on a reply the gate sent on its own, `auto-generated`
 *     on the agent's own notices (alerts, summaries). A reply a human approved or edited is not marked:
 *     it is the client's answer, and marking it would stop legitimate automatic handling at the other end.
 *   X-Auto-Response-Suppress (Exchange, [MS-OXCMAIL] 2.2.3.2.20): `OOF, AutoReply` asks Exchange not to
 *     send out-of-office or other automatic replies to it. Delivery reports (DR, NDR) are not suppressed:
 *     a bounce of an automatic reply is never answered (auto-reply-rules.ts) and the client should see it.
 * No `Precedence`: RFC 3834 does not define it (Auto-Submitted replaces it), and `bulk` or `junk` on a
 * one-to-one reply costs deliverability. Pure.
 */
export type AutoSubmitted = 'auto-replied' | 'auto-generated';

export const AUTO_SUBMITTED_HEADER = 'Auto-Submitted';
export const AUTO_RESPONSE_SUPPRESS_HEADER = 'X-Auto-Response-Suppress';
export const AUTO_RESPONSE_SUPPRESS_VALUE = 'OOF, AutoReply';

/** The headers this module owns: a caller never sets them, they follow from who let the send go. */
const OWNED = new Set([AUTO_SUBMITTED_HEADER.toLowerCase(), AUTO_RESPONSE_SUPPRESS_HEADER.toLowerCase()]);

/**
 * How a send is marked, from who let it go: the gate alone (`auto_approved`) → a reply sent on its own;
 * nobody needed (`not_required`, the agent's notices) → generated; a human (`approved`, `edited`) or
 * anything else → unmarked.
 */
export function autoSubmittedFor(status: ApprovalStatus): AutoSubmitted | null {
  if (status === 'auto_approved') return 'auto-replied';
  if (status === 'not_required') return 'auto-generated';
  return null;
}

/** The headers that mark a send as automatic; none for a human's. */
export function autoSubmittedHeaders(marking: AutoSubmitted | null): Record<string, string> {
  if (marking === null) return {};
  return { [AUTO_SUBMITTED_HEADER]: marking, [AUTO_RESPONSE_SUPPRESS_HEADER]: AUTO_RESPONSE_SUPPRESS_VALUE };
}

/**
 * `headers` with the automatic-send marks set from `marking` alone: any the caller wrote (in any case)
 * are replaced, so a request can neither mark a human's reply automatic nor strip the mark off one.
 */
export function withAutoSubmitted(headers: Readonly<Record<string, string>>, marking: AutoSubmitted | null): Record<string, string> {
  const kept = Object.entries(headers).filter(([name]) => !OWNED.has(name.toLowerCase()));
  return { ...Object.fromEntries(kept), ...autoSubmittedHeaders(marking) };
}

/** The marking `headers` carry (as withAutoSubmitted set it), or null. */
export function autoSubmittedOf(headers: Readonly<Record<string, string>>): AutoSubmitted | null {
  const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === AUTO_SUBMITTED_HEADER.toLowerCase());
  const value = entry?.[1].trim().toLowerCase();
  return value === 'auto-replied' || value === 'auto-generated' ? value : null;
}

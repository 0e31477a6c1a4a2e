/**
 * The In-Reply-To and References a reply carries, from the message answered. Its sender wrote them: a
 * References header of any length, ids with spaces, control characters or no "@" (mailparser wraps a
 * bare word in angle brackets). Only well-formed ids (RFC 5322 §3.6.4 msg-id, dot-atom or bracketed
 * right side) are copied, and References keeps the first and the newest ones (§3.6.4 allows trimming;
 * the first is the thread's root, the newest its recent replies), within a bounded header.
 */

const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const DOT_ATOM = `${ATEXT}(?:\\.${ATEXT})*`;
const MSG_ID = new RegExp(`^<${DOT_ATOM}@(?:${DOT_ATOM}|\\[[!-Z^-~]*\\])>$`);

/** The longest id copied, in characters (RFC 5322 lines are at most 998). */
const MAX_ID_LENGTH = 250;
/** How many of the oldest and of the newest References are kept. */
const KEPT_AT_EACH_END = 20;
/** The most characters of ids References carries. */
const MAX_REFERENCES_CHARS = 8 * 1024;

export function isMessageId(value: string): boolean {
  return value.length <= MAX_ID_LENGTH && MSG_ID.test(value);
}

/** The reply's ids: In-Reply-To the answered message's Message-ID (when well-formed), References its References and it, trimmed. */
export function replyIds(original: { messageId: string | null; references: readonly string[] }): { inReplyTo: string | null; references: string[] } {
  const inReplyTo = original.messageId !== null && isMessageId(original.messageId) ? original.messageId : null;
  const earlier = [...new Set(original.references.filter(isMessageId))].filter((id) => id !== inReplyTo);
  const chain = [...earlier, ...(inReplyTo === null ? [] : [inReplyTo])];
  const kept = chain.length <= 2 * KEPT_AT_EACH_END ? chain : [...chain.slice(0, KEPT_AT_EACH_END), ...chain.slice(-KEPT_AT_EACH_END)];
  // Drop from just after the root while the header is too long: the newest ids and the root thread the reply.
  while (kept.length > 2 && kept.reduce((total, id) => total + id.length + 1, 0) > MAX_REFERENCES_CHARS) kept.splice(1, 1);
  return { inReplyTo, references: kept };
}

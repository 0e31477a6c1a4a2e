/**
 * A reply prefix as mail apps write it in their languages (Re; Aw, German; Sv, Nordic; Vs, Finnish;
 * Antw, Dutch; R and Rif, Italian; Odp, Polish; Ynt, Turkish; 回复 and 答复, Chinese), with an optional
 * count ("Re[2]:", "Re(2):", "Re^2:") and an ASCII or full-width colon.
 */
const REPLY_PREFIX = /^(?:re|aw|sv|vs|antw|rif|r|odp|ynt|回复|回覆|答复|答覆)\s*(?:\[\d{1,6}\]|\(\d{1,6}\)|\^\d{1,6})?\s*[:：]/iu;

/**
 * The subject of a reply: "Re: " once, never "Re: Re: ". A subject that already starts with a reply prefix
 * in any of the usual languages is kept as it is: a "Re: " put before "AW: " comes back as "AW: Re: AW: ",
 * so the subject would grow by a prefix on every exchange with such a client. Line breaks are folded away.
 * Applying it again changes nothing. Pure.
 */
export function replySubject(subject: string): string {
  const flat = subject.replace(/[\r\n]+/g, ' ').trim();
  if (flat === '') return 'Re:';
  return REPLY_PREFIX.test(flat) ? flat : `Re: ${flat}`;
}

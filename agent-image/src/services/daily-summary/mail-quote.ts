/**
 * Text from email (subjects, addresses, reasons in audit records) as the agent's own mail to the client's
 * admins shows it. That mail comes from a sender the admins trust, so what a stranger wrote must not be
 * able to pass as the agent's own words there: it is kept to one bounded line, without the characters that
 * hide or reorder text, and (`quoteFromMail`) with every link and host name in it made unclickable and RFC
 * 2047 encoded words inert, so that the only links in these mails are the portal's own. HTML escaping stays
 * the layout's job (email-layout.ts).
 */

/** How much of one quoted item is shown, in characters (code points). */
export const QUOTE_MAX_CHARS = 200;

/** What stands in for a character that reorders text (right-to-left override, isolates, embeddings). */
export const HIDDEN_MARK = '\uFFFD';

// Control characters and line/paragraph separators (CR, LF, VT, FF, NEL, U+2028, U+2029, ...).
const BREAKS = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
// Explicit bidi embeddings, overrides and isolates: "Invoice \u202Efdp.exe" reads as "Invoice exe.pdf".
const REORDERING = /[\u202A-\u202E\u2066-\u2069]/gu;
// Other invisible format characters (zero-width spaces, bidi marks, soft hyphens, tags), apart from the
// joiners that emoji and some scripts need: they can split a host name so that a check does not see it.
const INVISIBLE = /(?![\u200C\u200D])\p{Cf}/gu;
const SPACES = /\s+/gu;

// A scheme followed by `//` (https://, ftp://, custom://) or a scheme that mail clients link without it.
const SCHEME = /\b([a-z][a-z0-9+.-]{0,30}):(?=\/\/|\\\\)|\b(mailto|tel|sms|callto|data|javascript|vbscript|file):/giu;
// A host name: labels joined by dots (also the ideographic and full-width dots browsers accept), the last
// one starting with a letter: `evil.example`, `www.bank.example`, `invoice.zip`, `evil。example`.
const DOT = '[.\\u3002\\uFF0E\\uFF61]';
const HOST = new RegExp(`(?<![\\p{L}\\p{N}_-])(?:[\\p{L}\\p{N}](?:[\\p{L}\\p{N}_-]*[\\p{L}\\p{N}])?${DOT})+\\p{L}[\\p{L}\\p{N}-]+`, 'gu');
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/gu;
// An RFC 2047 encoded word: a mail client decodes it when it lands in a header (the notice's Subject), so
// text that passed every check here would be shown as whatever it encodes.
const ENCODED_WORD = /=\?([^?\s]{1,40})\?([bq])\?/giu;

/**
 * One line of at most `max` characters: line breaks and control characters become a space, characters
 * that reorder text become HIDDEN_MARK, other invisible ones are dropped, runs of space become one, and a
 * cut is marked with "…". For what the admins must read exactly (addresses, ids, names).
 */
export function oneLine(text: string, max = QUOTE_MAX_CHARS): string {
  // Bounded work on any input: a code point is at most two UTF-16 units, and invisible ones are dropped.
  const head = text.length > max * 8 ? text.slice(0, max * 8) : text;
  const cleaned = head.replace(BREAKS, ' ').replace(REORDERING, HIDDEN_MARK).replace(INVISIBLE, '').replace(SPACES, ' ').trim();
  const points = Array.from(cleaned);
  if (points.length <= max && head.length === text.length) return cleaned;
  return `${points.slice(0, Math.max(1, max - 1)).join('').trimEnd()}…`;
}

/** `text` with every bidi embedding, override and isolate shown as HIDDEN_MARK, and nothing else changed. */
export function neutraliseBidi(text: string): string {
  return text.replace(REORDERING, HIDDEN_MARK);
}

/** `oneLine` with links and host names made unclickable (`hxxps[:]//evil[.]example`), for free text from mail. */
export function quoteFromMail(text: string, max = QUOTE_MAX_CHARS): string {
  return defang(oneLine(text, max));
}

/** Makes URLs, host names and IP addresses in `text` unclickable, and encoded words inert; still readable. */
export function defang(text: string): string {
  return text
    .replace(ENCODED_WORD, '= ?$1?$2?')
    .replace(SCHEME, (_match, withSlashes: string | undefined, bare: string | undefined) => {
      const scheme = (withSlashes ?? bare ?? '').replace(/^(h)tt(ps?)$/iu, '$1xx$2');
      return `${scheme}[:]`;
    })
    .replace(HOST, (host) => host.replace(new RegExp(DOT, 'gu'), '[.]'))
    .replace(IPV4, (address) => address.replace(/\./gu, '[.]'));
}

/**
 * Sentences of the agent's mail to the client's admins that name what someone else chose (a display
 * name, an address, a subject, a reason from a mail header). The Unicode bidi algorithm lays a
 * right-to-left name out together with the words and numbers around it, so "ايمن: 3 blocked, 0 allowed"
 * can read in another order than it was written. Each such piece is isolated: `<bdi>` in HTML, FSI…PDI
 * (U+2068, U+2069) in plain text and headers. The bidi controls a piece arrives with are shown as marks,
 * so that none can close the isolate early or reorder what follows it.
 */
import { neutraliseBidi } from './mail-quote.ts';

const FIRST_STRONG_ISOLATE = '\u2068';
const POP_DIRECTIONAL_ISOLATE = '\u2069';

/** Text someone outside the agent chose, to be shown inside one of the agent's sentences. */
export interface Untrusted {
  readonly untrusted: string;
}

/** A piece of a sentence: the agent's own words, or text someone else chose. */
export type Inline = string | Untrusted;

/** Marks `text` as chosen by someone else (it should already be one bounded line: `oneLine`, `quoteFromMail`). */
export function untrusted(text: string): Untrusted {
  return { untrusted: text };
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The sentence as HTML: everything escaped, each untrusted piece in its own `<bdi>`. */
export function inlineHtml(parts: string | readonly Inline[]): string {
  if (typeof parts === 'string') return escapeHtml(parts);
  return parts.map((part) => (typeof part === 'string' ? escapeHtml(part) : `<bdi>${escapeHtml(neutraliseBidi(part.untrusted))}</bdi>`)).join('');
}

/** The sentence as plain text (a text part, a Subject): each untrusted piece between FSI and PDI. */
export function inlineText(parts: string | readonly Inline[]): string {
  if (typeof parts === 'string') return parts;
  return parts.map((part) => (typeof part === 'string' ? part : `${FIRST_STRONG_ISOLATE}${neutraliseBidi(part.untrusted)}${POP_DIRECTIONAL_ISOLATE}`)).join('');
}

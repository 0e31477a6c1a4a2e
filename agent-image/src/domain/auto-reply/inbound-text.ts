/**
 * Inbound text made to read the same for the model, the injection-signal scan and the people who review
 * it in the portal. A sender can write characters that a screen shows differently from how a model or a
 * regular expression reads them:
 *   - Unicode tag characters (U+E0000–U+E007F) are invisible, yet spell ASCII a model can read ("ASCII
 *     smuggling"): each run is revealed as `[hidden text: …]`, so all three read the same words;
 *   - bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what a screen shows
 *     (`‮snoitcurtsni` shows as "instructions") while the model reads the stored order: dropped; the
 *     Unicode bidi algorithm still lays out right-to-left scripts without them;
 *   - control characters (NUL and the other C0 controls but tab and line breaks, DEL): dropped; some
 *     screens stop or skip at them;
 *   - variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF) are invisible too, and 256 of them spell any
 *     byte: a run after one emoji carries a hidden text a model can be told to decode ("emoji
 *     smuggling"). Only the one that picks an emoji's text or colour form (U+FE0E, U+FE0F) right after
 *     an emoji stays; every other is dropped (a CJK ideograph's variant glyph is the same character);
 *   - invisible characters that join nothing (zero-width space, word joiner and the invisible operators,
 *     soft hyphen, BOM, Mongolian vowel separator): dropped, so `</untrusted\u200b_email>` cannot pass for
 *     a closing tag the prompt's defusing would not recognise. The zero-width (non-)joiners stay: emoji
 *     sequences and Persian and Indic scripts need them.
 * A header value (subject, display name) is one line: line breaks there would let the sender write
 * lines such as `From: ceo@client.example` into the header block the model is shown. Pure.
 */

const TAG_RUN = /[\u{E0000}-\u{E007F}]+/gu;
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const INVISIBLE = /[\u00AD\u180E\u200B\u2060-\u2064\uFEFF]/g;
/** An optional emoji, then a run of variation selectors: the run is dropped but for an emoji's own selector. */
const VARIATION_RUN = /(\p{Emoji})?([\uFE00-\uFE0F\u{E0100}-\u{E01EF}]+)/gu;
const LINE_BREAKS = /[\r\n\t\u000B\u000C\u0085\u2028\u2029]+/g;

/** A run of tag characters as the ASCII it spells (U+E0020–U+E007E), in view; '' when it spells nothing. */
function revealTags(run: string): string {
  let ascii = '';
  for (const char of run) {
    const code = (char.codePointAt(0) ?? 0) - 0xe0000;
    if (code >= 0x20 && code <= 0x7e) ascii += String.fromCharCode(code);
  }
  return ascii.trim() === '' ? '' : `[hidden text: ${ascii}]`;
}

/** An emoji keeps the first selector of the run after it when that one picks its text or colour form. */
function keptVariation(_run: string, emoji: string | undefined, selectors: string): string {
  if (emoji === undefined) return '';
  const first = selectors.charAt(0);
  return first === '\uFE0E' || first === '\uFE0F' ? `${emoji}${first}` : emoji;
}

/** A body as shown: hidden tag text revealed, bidi controls, control, invisible and stray variation characters dropped. */
export function shownText(text: string): string {
  return text.replace(TAG_RUN, revealTags).replace(BIDI_CONTROLS, '').replace(CONTROLS, '').replace(INVISIBLE, '').replace(VARIATION_RUN, keptVariation);
}

/** A header value as shown: `shownText` on one line (each run of line breaks or tabs one space). */
export function shownLine(text: string): string {
  return shownText(text.replace(LINE_BREAKS, ' '));
}

type Named = { address: string; name: string | null };

/**
 * The subject, body and display names of an inbound message as shown (addresses are left exactly as
 * written: they are identities, and a cleaned one could match a contact the real one is not).
 */
export function shownInbound<T extends { subject: string; textBody: string; from: Named | null; to: Named[]; cc: Named[]; replyTo: Named[] }>(message: T): T {
  const named = (entry: Named): Named => ({ address: entry.address, name: entry.name === null ? null : shownLine(entry.name).trim() || null });
  return {
    ...message,
    subject: shownLine(message.subject),
    textBody: shownText(message.textBody),
    from: message.from === null ? null : named(message.from),
    to: message.to.map(named),
    cc: message.cc.map(named),
    replyTo: message.replyTo.map(named),
  };
}

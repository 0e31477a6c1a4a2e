/**
 * An event title as the calendar adapters write it: one line of plain text, trimmed; and so what the
 * provider reads back. Comparing a proposed title through this tells whether an update already applied it.
 * Pure.
 */

// Every line break a calendar client may honour (CR, LF, vertical tab, form feed, NEL, U+2028, U+2029),
// and the other C0 and C1 controls (a tab, a NUL a provider refuses after the approval): one space each run.
const BREAKS_AND_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/gu;
// Explicit bidi embeddings, overrides and isolates: "Call \u202Efdp.exe" is shown as "Call exe.pdf", so
// attendees would read another title than the one written. A one-line title needs none of them.
const REORDERING = /[\u202A-\u202E\u2066-\u2069]/gu;

export function eventTitle(title: string): string {
  return title.replace(REORDERING, '').replace(BREAKS_AND_CONTROLS, ' ').trim();
}

/**
 * Characters a terminal acts on instead of showing: the C0 controls but tab and line feed (ESC starts an
 * escape sequence, CR and BS overwrite what was printed), DEL, the C1 controls (U+009B is a CSI and U+009D
 * an OSC on many terminals), and the bidirectional marks, embeddings, overrides and isolates that reorder
 * what is shown. Names, subjects, reasons and messages that `fleet` prints come from the service and from
 * client mail; none of them may drive the operator's terminal.
 */
const ACTIVE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The same, as JSON strings may hold them unescaped (JSON.stringify escapes only U+0000-U+001F). */
const ACTIVE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function hex(character: string, digits: number): string {
  return (character.codePointAt(0) ?? 0).toString(16).padStart(digits, '0');
}

/** Human output with each such character shown as an escape (`\x1b`, `\u202e`): visible, and inert. */
export function terminalSafe(text: string): string {
  return text.replace(ACTIVE_IN_TEXT, (character) =>
    character.length === 1 && character <= '\u00ff' ? `\\x${hex(character, 2)}` : `\\u${hex(character, 4)}`,
  );
}

/** JSON text with each such character written as a `\uXXXX` escape: the same JSON value, inert on a terminal. */
export function terminalSafeJson(json: string): string {
  return json.replace(ACTIVE_IN_JSON, (character) => `\\u${hex(character, 4)}`);
}

/** C0 and C1 controls but tab and line feed, and the Unicode bidirectional embeddings, overrides and isolates. */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The text without the characters that hide or reorder what a reader (a recruiter, or the model) sees:
 * a right-to-left override turns "gpj.exe" into what looks like "exe.jpg". Pure.
 */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, '');
}

/**
 * A copy of `text` that keeps no other string alive. V8 makes a slice of a long string (`slice`, `trim`,
 * a regular expression's match) a view that holds the whole original: two thousand characters cut from
 * a thread message of megabytes would keep those megabytes for as long as the cut is kept. The copy goes
 * through its UTF-16 code units, so every character, a lone surrogate included, stays as it was. Pure.
 */
export function detachedText(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

/** The first `max` code units of `text` (a surrogate pair is never split), detached from it; `text` itself when it is not longer. Pure. */
export function detachedHead(text: string, max: number): string {
  if (text.length <= max) return text;
  return detachedText(text.slice(0, max).replace(/[\ud800-\udbff]$/, ''));
}

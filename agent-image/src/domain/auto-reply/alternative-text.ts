/**
 * Whether one version of a message says something another does not. A multipart/alternative message
 * carries its text twice, as plain text and as HTML, and the sender writes both: a mail app shows the
 * HTML, while the agent reads the plain text. "Can you confirm the order?" in one and "our bank details
 * changed, confirm you will pay the new account" in the other would have the agent confirm what the
 * client reads as a changed account, with the injection scan and the reviewer none the wiser. The
 * versions a mail program writes hold the same words (spelt out with links, headings in capitals, line
 * breaks elsewhere): only a word the shown version holds that the read one lacks counts. Link targets
 * are left out, as converters write them and text versions often do not. Linear in the texts. Pure.
 */

/** A URL as a converter writes a link's target (`[https://…]`, `<mailto:…>`) or a text writes it bare. */
const URL_TEXT = /\b(?:https?|ftp|mailto|tel|cid):[^\s<>[\]()]+/gi;
const WORD = /[\p{L}\p{N}]+/gu;
/** Characters no reader sees (a soft hyphen inside a word, zero-width spaces): they split no word. */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

function wordsOf(text: string): Set<string> {
  const plain = text.normalize('NFKC').replace(IGNORABLE, '').replace(URL_TEXT, ' ').toLowerCase();
  return new Set(plain.match(WORD) ?? []);
}

/** Whether `shown` holds a word (letters or digits, case aside, link targets left out) that `read` does not. */
export function saysMoreThan(shown: string, read: string): boolean {
  const readWords = wordsOf(read);
  for (const word of wordsOf(shown)) if (!readWords.has(word)) return true;
  return false;
}

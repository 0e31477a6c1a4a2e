/**
 * Is the text a send carries the template reply the gate rendered? Exactly that text, but for what a
 * provider's round trip of the draft may do to it: line ends written CRLF (every one of them, or none),
 * spaces and tabs dropped at the end of a line, and up to two line breaks added at the end; a subject
 * may lose spaces at its ends or come back folded (CRLF before a space). Nothing may be added anywhere
 * else, not even white space: spaces, tabs or invisible characters that a looser comparison ignores
 * would carry whatever the model wants, unseen by the reader, to the recipient (a covert channel in a
 * reply no human approved). Pure.
 */

const MAX_ADDED_LINE_BREAKS = 2;

/** The lines of a text whose line ends are all LF or all CRLF; null when they are mixed or a CR stands alone. */
function uniformLines(text: string): string[] | null {
  const crlf = text.includes('\r');
  if (crlf && /\r(?!\n)|(?<!\r)\n/.test(text)) return null;
  return (crlf ? text.replaceAll('\r\n', '\n') : text).split('\n');
}

/** Whether a sent body is the rendered one, allowing only the round-trip changes described above. */
export function sameTemplateBody(rendered: string, sent: string): boolean {
  const sentLines = uniformLines(sent);
  if (sentLines === null) return false;
  const renderedLines = rendered.replace(/\r\n?/g, '\n').split('\n');
  let added = 0;
  while (sentLines.length > renderedLines.length && sentLines.at(-1) === '' && added < MAX_ADDED_LINE_BREAKS) {
    sentLines.pop();
    added++;
  }
  if (sentLines.length !== renderedLines.length) return false;
  return sentLines.every((line, index) => {
    const expected = renderedLines[index] ?? '';
    return line === expected || (line.length < expected.length && line === expected.replace(/[ \t]+$/, ''));
  });
}

/** Whether a sent subject is the rendered one, unfolded and with spaces at its ends dropped at most. */
export function sameTemplateSubject(rendered: string, sent: string): boolean {
  const unfolded = sent.replace(/\r?\n(?=[ \t])/g, '');
  if (unfolded === rendered) return true;
  const trimmed = rendered.replace(/^[ \t]+|[ \t]+$/g, '');
  return unfolded === trimmed || unfolded === rendered.replace(/^[ \t]+/, '') || unfolded === rendered.replace(/[ \t]+$/, '');
}

/** What ends a run of plain text: a command's "<" or a line break. */
const SPECIAL = /[<\n]/g;

/**
 * The text of a text/enriched body (RFC 1896): every formatting command (`<bold>`, `</italic>`) dropped,
 * the text of a `<param>` (a command's argument, never shown) dropped, `<<` read as "<", and line breaks
 * as a reader shows them (one break is a space, each further one a line). A sender can send a message
 * whose only body is text/enriched: a mail app shows its words, so the agent must read them too. One
 * pass, linear in the input. Pure.
 */
export function enrichedText(enriched: string): string {
  const out: string[] = [];
  let paramDepth = 0;
  let index = 0;
  const source = enriched.replace(/\r\n?/g, '\n');
  while (index < source.length) {
    const char = source.charAt(index);
    if (char === '<') {
      if (source.charAt(index + 1) === '<') {
        if (paramDepth === 0) out.push('<');
        index += 2;
        continue;
      }
      const close = source.indexOf('>', index + 1);
      // An unclosed "<" is text, and so is the rest: there is no command left to find.
      if (close === -1) {
        if (paramDepth === 0) out.push(source.slice(index));
        break;
      }
      const command = source.slice(index + 1, Math.min(close, index + 64)).trim().toLowerCase();
      if (command === 'param') paramDepth += 1;
      else if (command === '/param') paramDepth = Math.max(0, paramDepth - 1);
      index = close + 1;
      continue;
    }
    if (char === '\n') {
      let end = index;
      while (source.charAt(end) === '\n') end += 1;
      if (paramDepth === 0) out.push(end - index === 1 ? ' ' : '\n'.repeat(end - index - 1));
      index = end;
      continue;
    }
    SPECIAL.lastIndex = index;
    const stop = SPECIAL.exec(source)?.index ?? source.length;
    if (paramDepth === 0) out.push(source.slice(index, stop));
    index = stop;
  }
  return out.join('').trim();
}

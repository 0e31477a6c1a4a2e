/**
 * A last-resort plain text of an HTML body, for when the real converter could not read it (mailparser
 * gives up on HTML nested deeper than it parses, and would leave the body empty: the model, the
 * injection-signal scan and the reviewer would see nothing while the client's mail app shows the
 * message) or a provider sent HTML where text was asked for. Every tag is dropped (a line break for the
 * ones that end a line), the common entities are decoded, nothing else is interpreted: text a mail app
 * would hide stays in, as it does with the real converter. One pass, linear in the input whatever it
 * holds (a regular expression such as `<[^>]*>` is quadratic on a run of "<"). Pure.
 */

const LINE_TAGS = new Set(['br', 'p', 'div', 'tr', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'blockquote', 'pre', 'hr']);
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const ENTITY = /&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi;

function decodeEntity(match: string, name: string): string {
  if (name.startsWith('#')) {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : match;
  }
  return NAMED[name.toLowerCase()] ?? match;
}

/** The text of an HTML body, tags dropped, entities decoded, blank lines collapsed. */
export function htmlFallbackText(html: string): string {
  const parts: string[] = [];
  let index = 0;
  while (index < html.length) {
    const open = html.indexOf('<', index);
    if (open === -1) {
      parts.push(html.slice(index));
      break;
    }
    parts.push(html.slice(index, open));
    const close = html.indexOf('>', open + 1);
    // An unclosed "<" is text, and so is the rest: there is no tag left to find.
    if (close === -1) {
      parts.push(html.slice(open));
      break;
    }
    const name = /^<\/?\s*([a-z0-9]+)/i.exec(html.slice(open, Math.min(close, open + 16)))?.[1]?.toLowerCase();
    if (name !== undefined && LINE_TAGS.has(name)) parts.push('\n');
    index = close + 1;
  }
  return parts
    .join('')
    .replace(ENTITY, decodeEntity)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

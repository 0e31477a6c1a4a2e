/**
 * A last-resort plain text of an HTML body, for when the real converter could not read it (mailparser
 * gives up on HTML nested deeper than it parses, and would leave the body empty: the model, the
 * injection-signal scan and the reviewer would see nothing while the client's mail app shows the
 * message) or a provider sent HTML where text was asked for. Every tag is dropped (a line break for the
 * ones that end a line), and so are comments and the style sheets and scripts that are no text (as the
 * real converter drops them: a comment's own ">" would otherwise end it early and show its rest), the
 * common entities are decoded, nothing else is interpreted: text a mail app would hide stays in, as it
 * does with the real converter. One pass, linear in the input whatever it holds (a regular expression
 * such as `<[^>]*>` is quadratic on a run of "<"). Pure.
 */

const LINE_TAGS = new Set(['br', 'p', 'div', 'tr', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'blockquote', 'pre', 'hr']);
/** Elements whose content is not text: dropped to their end tag (or to the end, unclosed). */
const NOT_TEXT = new Set(['style', 'script']);
const COMMENT_END = /--!?>/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const ENTITY = /&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi;

function decodeEntity(match: string, name: string): string {
  if (name.startsWith('#')) {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : match;
  }
  return NAMED[name.toLowerCase()] ?? match;
}

/** Where the element whose content starts at `from` ends: past its end tag, or at the end of the HTML. */
function endOfElement(html: string, name: string, from: number): number {
  const endTag = new RegExp(`</${name}(?![a-z0-9])`, 'gi');
  endTag.lastIndex = from;
  const found = endTag.exec(html);
  if (found === null) return html.length;
  const close = html.indexOf('>', found.index);
  return close === -1 ? html.length : close + 1;
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
    if (html.startsWith('<!--', open)) {
      // As a browser ends it: at the first "-->" or "--!>", `<!-->` and `<!--->` being empty comments.
      COMMENT_END.lastIndex = open + 2;
      const end = COMMENT_END.exec(html);
      if (end === null) break;
      index = end.index + end[0].length;
      continue;
    }
    const close = html.indexOf('>', open + 1);
    // An unclosed "<" is text, and so is the rest: there is no tag left to find.
    if (close === -1) {
      parts.push(html.slice(open));
      break;
    }
    const name = /^<\/?\s*([a-z0-9]+)/i.exec(html.slice(open, Math.min(close, open + 16)))?.[1]?.toLowerCase();
    if (name !== undefined && LINE_TAGS.has(name)) parts.push('\n');
    index = close + 1;
    if (name !== undefined && NOT_TEXT.has(name) && /[a-z]/i.test(html.charAt(open + 1))) index = endOfElement(html, name, index);
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

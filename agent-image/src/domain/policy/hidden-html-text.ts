import { decodeCharacterReferences } from './html-text.ts';

/**
 * Text an event's HTML hides from its readers: an element styled out of sight (`display:none`,
 * `visibility:hidden`, zero opacity, a zero font size, height or width, transparent text, pushed far off
 * the page) or marked `hidden`, that holds text, and a `<style>` block that hides whatever it names. A
 * reader sees nothing there, but the assistants of the people invited read it all: the HTML form of the
 * injected sentence that Unicode tag characters carry in plain text (sent-text-content.ts). Inline tags
 * that only format the text (`<b>bob@partner.com</b>`) hide nothing; neither do the style sheets Outlook
 * puts in every event body (`<style style="display:none"><!-- p {margin-top:0} --></style>`), which show
 * no text and hide none. Values are read as a browser reads them: character references and CSS escapes
 * decoded, white space and CSS comments dropped. One pass over the tags: linear in the text's length. Pure.
 */

const TAG = /<[^<>]*>/g;
const TAG_PARTS = /^<(\/?)([a-z][a-z0-9-]{0,30})([^]*?)\/?>$/i;
/** Elements whose content is never shown as text: their own hiding style hides nothing more. */
const NOT_SHOWN = new Set(['head', 'script', 'style', 'template', 'title']);
/** Elements with no content (and so none to hide). */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const SHOWN_TEXT = /[\p{L}\p{N}]/u;

const CSS_ESCAPE = /\\(?:([0-9a-f]{1,6})[ \t\n\r\f]?|([^\n\r\f0-9a-f]))/gi;
const CSS_COMMENT = /\/\*[^]*?\*\//g;
const WHITE_SPACE = /\s+/g;
/** Zero, in any unit (`0`, `0px`, `.0em`, `0%`). */
const ZERO = String.raw`(?:0+(?:\.0*)?|\.0+)(?:[a-z]{1,4}|%)?(?![\d.])`;
/** A font size no reader can read: zero, or under one pixel or point. */
const UNREADABLE_SIZE = String.raw`(?:${ZERO}|0*\.\d+(?:px|pt)(?![\d.]))`;
/** Declarations that take their element's text out of sight, on CSS read without white space or comments. */
const HIDING_DECLARATION = new RegExp(
  [
    String.raw`display:none`,
    String.raw`visibility:(?:hidden|collapse)`,
    String.raw`opacity:${ZERO}`,
    String.raw`font-size:${UNREADABLE_SIZE}`,
    String.raw`(?:max-)?(?:height|width):${ZERO}`,
    String.raw`color:(?:transparent|rgba\([^()]*,(?:0+(?:\.0*)?|\.0+)\))`,
    String.raw`(?:text-indent|left|top|margin-left|margin-top):-\d{3,}`,
  ].map((declaration) => `(?:^|[;{"'=])${declaration}`).join('|'),
);
/** The `hidden` attribute (not `aria-hidden`, which hides nothing from sight). */
const HIDDEN_ATTRIBUTE = /(?:^|\s)hidden(?=[\s=/]|$)/i;

/** CSS as a browser reads it: references and escapes decoded, comments and white space dropped, lower case. */
function readCss(raw: string): string {
  const decoded = decodeCharacterReferences(raw).replace(CSS_ESCAPE, (_match, hex: string | undefined, other: string | undefined) => {
    if (hex === undefined) return other ?? '';
    const code = parseInt(hex, 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
  return decoded.replace(CSS_COMMENT, '').replace(WHITE_SPACE, '').toLowerCase();
}

const QUOTED_VALUE = /"[^"]*"|'[^']*'/g;

function hidesContent(attributes: string): boolean {
  // The attribute names, without the quoted values (a title "was hidden here" names no attribute).
  return HIDDEN_ATTRIBUTE.test(attributes.replace(QUOTED_VALUE, '""')) || HIDING_DECLARATION.test(readCss(attributes));
}

/** Whether the text, read as HTML, holds text that it hides from its readers (see above). */
export function hiddenHtmlTextIn(text: string): boolean {
  if (!text.includes('<') || !text.includes('>')) return false;
  /** The element whose content is hidden, and how deep inside elements of its name the scan is. */
  let hiding: { name: string; depth: number } | undefined;
  /** The element whose content is not shown as text (a style sheet, a script), while inside one. */
  let notShown: string | undefined;
  let last = 0;
  for (const match of text.matchAll(TAG)) {
    const between = text.slice(last, match.index);
    last = match.index + match[0].length;
    if (notShown === 'style' && HIDING_DECLARATION.test(readCss(between))) return true;
    if (hiding !== undefined && notShown === undefined && SHOWN_TEXT.test(between)) return true;
    const parts = TAG_PARTS.exec(match[0]);
    if (parts === null) continue;
    const closing = parts[1] === '/';
    const name = (parts[2] ?? '').toLowerCase();
    const attributes = parts[3] ?? '';
    if (notShown !== undefined) {
      if (closing && name === notShown) notShown = undefined;
      continue;
    }
    if (NOT_SHOWN.has(name)) {
      if (!closing) notShown = name;
      continue;
    }
    if (hiding !== undefined) {
      if (name === hiding.name && !VOID.has(name)) hiding.depth += closing ? -1 : 1;
      if (hiding.depth === 0) hiding = undefined;
      continue;
    }
    if (!closing && !VOID.has(name) && !match[0].endsWith('/>') && hidesContent(attributes)) hiding = { name, depth: 1 };
  }
  const rest = text.slice(last);
  if (notShown === 'style') return HIDING_DECLARATION.test(readCss(rest));
  return hiding !== undefined && notShown === undefined && SHOWN_TEXT.test(rest);
}

/**
 * Text as an HTML reader shows it. Google renders an event's description as HTML (in the calendar and in
 * the invitation it mails), and Graph hands back an event's body as HTML: there `evil&#x000002e;com` and
 * `evil<b></b>.com` show as "evil.com", and `eve&#64;evil.com` as "eve@evil.com". The gate reads such text
 * the way it is shown as well as the way it is written (a false alarm costs an approval; a missed host or
 * address sends a reader to the author of an injection). Linear in the text's length. Pure.
 */

/**
 * Numeric references with any number of leading zeros (HTML puts no bound on them), and the named ones
 * that spell a character of a host, an address or a URL's scheme and path.
 */
const CHARACTER_REFERENCE = /&#(?:x0*([0-9a-f]{1,6})|0*(\d{1,7}));?|&(period|hyphen|dash|commat|colon|sol|bsol);/gi;
const NAMED_REFERENCES: Readonly<Record<string, string>> = { period: '.', hyphen: '-', dash: '-', commat: '@', colon: ':', sol: '/', bsol: '\\' };

/** A tag or a comment (no `<` or `>` inside, so the scan stays linear), and the name of the element a tag is of. */
const TAG = /<[^<>]*>/g;
const TAG_NAME = /^<\/?([a-z][a-z0-9]{0,9})(?![a-z0-9])/i;
/** Elements shown on a line of their own: their tags part the text around them, as a line break does. */
const BREAKING = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'tbody', 'td', 'tfoot',
  'th', 'thead', 'tr', 'ul',
]);

function decodeCodePoint(code: number): string {
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
}

/** The text with the character references that matter to hosts and addresses decoded (`&#46;`, `&#x40;`, `&commat;`). */
export function decodeCharacterReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARACTER_REFERENCE, (match, hex: string | undefined, decimal: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED_REFERENCES[name.toLowerCase()] ?? match;
    const decoded = decodeCodePoint(hex === undefined ? Number(decimal) : parseInt(hex, 16));
    return decoded === '' ? match : decoded;
  });
}

/**
 * The text as HTML shows it without its tags: an inline tag, a comment or an element a browser does not
 * know shows nothing, so the text either side of it reads as one (`evil<b></b>.com`); a tag of an element
 * shown on its own line parts it. Undefined when the text holds nothing that may be a tag.
 */
export function withoutTags(text: string): string | undefined {
  if (!text.includes('<') || !text.includes('>')) return undefined;
  return text.replace(TAG, (tag) => {
    const name = TAG_NAME.exec(tag)?.[1]?.toLowerCase();
    return name !== undefined && BREAKING.has(name) ? ' ' : '';
  });
}

/** The text as written and, when it may hold tags, as HTML shows it without them. */
export function htmlReadings(text: string): string[] {
  const shown = withoutTags(text);
  return shown === undefined || shown === text ? [text] : [text, shown];
}

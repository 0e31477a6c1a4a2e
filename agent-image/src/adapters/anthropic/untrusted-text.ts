import { randomBytes } from 'node:crypto';

/**
 * How text a third party wrote is fenced in a prompt. Two layers:
 *   1. the fence's tags carry a random id made for each model call and named in that call's system
 *      prompt (`<untrusted_email_3f9a…>` … `</untrusted_email_3f9a…>`): a sender cannot know it, so no
 *      text they write can close the block, however they spell the tag;
 *   2. anything in the text a model might still read as a tag of such a block (any case, spacing or
 *      separator; full-width or look-alike brackets, slashes and letters; zero-width characters or
 *      combining accents inside; HTML entities, %XX and \uXXXX escapes) is replaced by a marker, so the
 *      model is not even shown a look-alike. Pure, apart from the random id.
 */

export const UNTRUSTED_TAG = 'untrusted_email';

/** The tags of the untrusted blocks of one model call. */
export interface UntrustedFence {
  /** Random hex id, unguessable by senders, new for each call. */
  readonly id: string;
  readonly open: string;
  readonly close: string;
}

/** What a tag look-alike in untrusted text is replaced with. */
export const DEFUSED_TAG = '[tag-like text removed]';

/** A fence with a new random id (128 bits). `random` is for tests. */
export function newUntrustedFence(random: (size: number) => Buffer = randomBytes): UntrustedFence {
  const id = random(16).toString('hex');
  if (!/^[0-9a-f]{32}$/.test(id)) throw new Error('the untrusted fence id must be 32 hex digits');
  const name = `${UNTRUSTED_TAG}_${id}`;
  return { id, open: `<${name}>`, close: `</${name}>` };
}

/** `text` (defused) between the fence's tags, each on a line of its own. */
export function fenced(text: string, fence: UntrustedFence): string {
  return `${fence.open}\n${neutralise(text)}\n${fence.close}`;
}

// Look-alikes NFKD does not fold: of "<", "/", "\" and of the letters of "untrusted email" (Cyrillic,
// Greek, Armenian and Latin letters that read the same).
const LOOK_ALIKES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    '<': '‹〈⟨⟪❮❰˂ᐸ«《⧼⦉≺',
    '/': '⁄∕⧸╱⟋ᐟ',
    '\\': '⧵﹨∖',
    a: 'аɑα',
    d: 'ԁ',
    e: 'еεҽ',
    i: 'ıіɩιӏ',
    l: 'ӏǀ',
    m: 'м',
    n: 'ոп',
    r: 'г',
    s: 'ѕ',
    t: 'тτ',
    u: 'սυ',
  }).flatMap(([plain, variants]) => [...variants].map((variant): [string, string] => [variant, plain])),
);

const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map(
  Object.entries({ lt: '<', gt: '>', sol: '/', bsol: '\\', lowbar: '_', nbsp: ' ', hyphen: '-', dash: '-', period: '.', lsqb: '[', lbrack: '[', lcub: '{', lbrace: '{', lpar: '(' }),
);

// One escaped character: an HTML character reference (numeric, or a name above, the semicolon optional as
// browsers read it), %XX, \uXXXX, \u{X…}, \xXX.
const ENTITY_NAMES = [...NAMED_ENTITIES.keys()].sort((a, b) => b.length - a.length).join('|');
const ESCAPE = new RegExp(`&#x([0-9a-f]{1,6});?|&#(\\d{1,7});?|&(${ENTITY_NAMES});?|%([0-9a-f]{2})|\\\\u\\{([0-9a-f]{1,6})\\}|\\\\u([0-9a-f]{4})|\\\\x([0-9a-f]{2})`, 'iy');
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Cf}\p{M}]$/u;
// A tag of an untrusted block as its skeleton reads: "<" (or "["), slashes or spaces, the name.
const TAG_SKELETON = /[<[][\s/\\]*untrusted[\s\p{P}\p{S}]*e[\s\p{P}\p{S}]*mail/gu;

function fromCodePoint(code: number): string | null {
  return code <= 0x10ffff ? String.fromCodePoint(code) : null;
}

/** The character an escape at `at` stands for, and where the escape ends; null when none starts there. */
function unescapeAt(text: string, at: number): { char: string; end: number } | null {
  if (text[at] !== '&' && text[at] !== '%' && text[at] !== '\\') return null;
  ESCAPE.lastIndex = at;
  const match = ESCAPE.exec(text);
  if (match === null) return null;
  const [whole, hexRef, decimalRef, name, percent, braced, unicode, hexByte] = match;
  const hex = hexRef ?? percent ?? braced ?? unicode ?? hexByte;
  const char = hex !== undefined ? fromCodePoint(parseInt(hex, 16)) : decimalRef !== undefined ? fromCodePoint(Number(decimalRef)) : (NAMED_ENTITIES.get((name ?? '').toLowerCase()) ?? null);
  return char === null ? null : { char, end: at + whole.length };
}

/** How a character reads for the tag check: no invisibles or accents, compatibility-folded, lower case. */
function skeletonOf(char: string): string {
  if (IGNORABLE.test(char)) return '';
  let folded = '';
  for (const part of (LOOK_ALIKES.get(char) ?? char).normalize('NFKD')) {
    if (!IGNORABLE.test(part)) folded += LOOK_ALIKES.get(part) ?? part;
  }
  return folded.toLowerCase();
}

/**
 * Replaces every look-alike of an untrusted block's tag (opening or closing, whatever id it carries) in
 * `text` with DEFUSED_TAG. Linear in the length of the text.
 */
export function neutralise(text: string): string {
  // The skeleton of the text, and for each of its UTF-16 units the span of the text it comes from.
  let skeleton = '';
  const starts: number[] = [];
  const ends: number[] = [];
  for (let at = 0; at < text.length; ) {
    const escape = unescapeAt(text, at);
    const end = escape?.end ?? at + (text.codePointAt(at)! > 0xffff ? 2 : 1);
    const read = skeletonOf(escape?.char ?? text.slice(at, end));
    for (let unit = 0; unit < read.length; unit++) {
      starts.push(at);
      ends.push(end);
    }
    skeleton += read;
    at = end;
  }
  let out = '';
  let copied = 0;
  for (const match of skeleton.matchAll(TAG_SKELETON)) {
    const from = starts[match.index]!;
    if (from < copied) continue;
    out += text.slice(copied, from) + DEFUSED_TAG;
    copied = ends[match.index + match[0].length - 1]!;
  }
  // `copied` moved past every match: 0 means none.
  return copied === 0 ? text : out + text.slice(copied);
}

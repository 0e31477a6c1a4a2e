import { decodeCharacterReferences, htmlReadings } from './html-text.ts';

/**
 * URL-shortener detection: a shortened link hides where it leads, so a message carrying one never sends
 * without approval. Hosts are matched exactly or as subdomains (`www.bit.ly`), never by suffix
 * (`habit.ly` is not `bit.ly`). Text is read the way a browser reads a host: full-width letters and
 * ideographic full stops (`ｂｉｔ。ｌｙ`), percent-encoded characters (`bit%2Ely`, `bit%E3%80%82ly`), HTML
 * character references (`bit&#46;ly`) and the invisible characters IDNA drops (`bit\u00AD.ly`) are folded
 * first, and the host after a URL's user info (`https://trusted.example@bit.ly/x`) is a host, not an email
 * domain, whatever its user info holds (`https://a,b@bit.ly/x`).
 */
export const URL_SHORTENER_DOMAINS: readonly string[] = [
  'bit.ly', 'bitly.com', 'j.mp', 'tinyurl.com', 'tiny.cc', 'tiny.one', 't.co', 'goo.gl', 'g.co', 'ow.ly',
  'is.gd', 'v.gd', 'buff.ly', 'rebrand.ly', 'cutt.ly', 'shorturl.at', 'shorturl.com', 'rb.gy', 'bl.ink',
  't.ly', 's.id', 'lnkd.in', 'trib.al', 'shorte.st', 'adf.ly', 'soo.gd', 'clck.ru', 'qr.ae', 'po.st',
  'mcaf.ee', 'su.pr', 'x.co', 'u.to', 'db.tt', 'shrtco.de', 'dub.sh', 'short.gy', 'tr.im', 'cli.gs',
  'ity.im', 'q.gs', 'vzturl.com', 'qr.net', '1url.com', 'tweez.me', 'v.ht', 'link.zip.net', 'urlz.fr',
  'lstu.fr', 'y2u.be', 'ift.tt', 'tinyurl.is', 'shorturl.asia',
];

function isHostChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 57) || // 0-9
    code === 45 || // -
    code === 46 // .
  );
}

export type ShortenerDetector = {
  /** The first shortener host found in the links or the text, or undefined. */
  find(links: readonly string[], text: string): string | undefined;
};

function trimDots(host: string): string {
  let start = 0;
  let end = host.length;
  while (start < end && (host.charCodeAt(start) === 46 || host.charCodeAt(start) === 45)) start++;
  while (end > start && (host.charCodeAt(end - 1) === 46 || host.charCodeAt(end - 1) === 45)) end--;
  return start === 0 && end === host.length ? host : host.slice(start, end);
}

/** Characters a local part of an email address may hold (RFC 5322 atext and the dot, `/` aside). */
function isLocalPartChar(code: number): boolean {
  return isHostChar(code) || (code >= 33 && code <= 126 && "!#$%&'*+=?^_`{|}~".includes(String.fromCharCode(code)));
}

/** The longest local part an address may have (RFC 5321). */
const MAX_LOCAL_PART = 64;

/**
 * Whether the `@` at `at` ends the local part of an email address (`mail me at x@bit.ly`, `mailto:x@…`)
 * rather than the user info of a URL (`https://x@bit.ly/`, `https://user:pass@bit.ly/`). Reads at most
 * one local part back, so the scan stays linear; anything else is taken for a URL (fail closed).
 */
function endsEmailLocalPart(text: string, at: number): boolean {
  let index = at - 1;
  while (index >= 0 && isLocalPartChar(text.charCodeAt(index))) {
    if (at - index > MAX_LOCAL_PART) return false;
    index--;
  }
  if (index === at - 1) return false;
  if (index < 0) return true;
  const before = text.charCodeAt(index);
  if (before === 58 /* : */) return text.slice(Math.max(0, index - 6), index).toLowerCase() === 'mailto';
  // `>` ends a tag (`<b>bob@x.com</b>`): the address is the text the tag starts. A URL's user info that
  // holds one (`https://a>b@bit.ly`) is read as a host all the same: it lies in an authority (authoritySpans).
  return /[\s<>("',;[]/.test(text.charAt(index));
}

const NEEDS_FOLDING = /[^\x00-\x7f]|%|&|</;
/** Percent-encoded bytes of a non-ASCII character (UTF-8), decoded as one run. */
const PERCENT_UTF8_RUN = /(?:%[89a-f][0-9a-f])+/gi;
const PERCENT_ASCII = /%([0-7][0-9a-f])/gi;
/**
 * Characters a URL's host loses on its way to ASCII (UTS 46 maps them to nothing: soft hyphen, zero-width
 * space, word joiner, variation selectors, ...), with the other invisible format characters: a superset,
 * so a false alarm at worst.
 */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const IGNORABLES = /\p{Default_Ignorable_Code_Point}/gu;

function decodePercent(text: string): string {
  return text
    .replace(PERCENT_UTF8_RUN, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    })
    .replace(PERCENT_ASCII, (match, hex: string) => {
      const code = parseInt(hex, 16);
      return isHostChar(code) ? String.fromCharCode(code) : match;
    });
}

/**
 * The readings of the text in which a browser or a mail client may find hosts: NFKC (full-width letters
 * and dots), the ideographic full stops IDNA treats as dots, percent-encoded and HTML-referenced
 * characters decoded, and, for text that may hold tags, the text as HTML shows it without them
 * (html-text.ts). Invisible characters are read both ways: dropped, as in a URL's host (`bit\u00AD.ly`),
 * and as a break between words, as a reader's client may take them (so one never joins a link to the
 * email address before it). One reading when the text has none of these.
 */
export function foldForHosts(text: string): string[] {
  if (!NEEDS_FOLDING.test(text)) return [text];
  return htmlReadings(text).flatMap(foldOneReading);
}

function foldOneReading(text: string): string[] {
  const decoded = decodePercent(decodeCharacterReferences(text.normalize('NFKC')));
  const folded = (/[^\x00-\x7f]/.test(decoded) ? decoded.normalize('NFKC') : decoded).replace(/[\u3002\uff0e\uff61]/g, '.');
  if (!IGNORABLE.test(folded)) return [folded];
  return [folded.replace(IGNORABLES, ''), folded.replace(IGNORABLES, ' ')];
}

/**
 * The first host in the text that `accept` takes (lower case, outer dots and hyphens trimmed). One linear
 * pass: every run of host characters that contains a dot is a candidate host (a regex for host names
 * backtracks badly on ordinary prose). The domain of an email address is a recipient, not a link, and is
 * skipped; the host after a URL's user info is a host.
 */
export function firstHost(raw: string, accept: (host: string) => boolean): string | undefined {
  for (const text of foldForHosts(raw)) {
    const host = firstHostIn(text, accept);
    if (host !== undefined) return host;
  }
  return undefined;
}

/**
 * A URL's authority in text: after the scheme's `:` and the slashes, which a browser reads in any number
 * and either way (`https:\\x`, `https:///x`), up to white space, `/`, `\\`, `?` or `#` (WHATWG, special schemes).
 */
const AUTHORITY = /:[/\\]+([^\s/\\?#]*)/g;

/**
 * Where the authorities of the URLs in a text end, by where they start: `[start, end)` pairs, in text
 * order. A URL's user info may hold characters an address is read to start after (`https://a,b@bit.ly`
 * and `https://x(y@bit.ly` open bit.ly), so an `@` inside an authority ends user info, never an address.
 */
function authoritySpans(text: string): number[] {
  if (!text.includes(':/') && !text.includes(':\\')) return [];
  const spans: number[] = [];
  for (const match of text.matchAll(AUTHORITY)) {
    const end = match.index + match[0].length;
    spans.push(end - (match[1] ?? '').length, end);
  }
  return spans;
}

/** firstHost in one reading of a text, already folded (foldForHosts). */
export function firstHostIn(text: string, accept: (host: string) => boolean): string | undefined {
  const authorities = authoritySpans(text);
  let span = 0;
  /** Whether the `@` at `at` is in a URL's authority; `at` only grows from call to call, so one pass over the spans. */
  const inAuthority = (at: number): boolean => {
    while (span < authorities.length && authorities[span + 1]! <= at) span += 2;
    return span < authorities.length && authorities[span]! <= at;
  };
  let dot = text.indexOf('.');
  while (dot !== -1) {
    let start = dot;
    while (start > 0 && isHostChar(text.charCodeAt(start - 1))) start--;
    let end = dot + 1;
    while (end < text.length && isHostChar(text.charCodeAt(end))) end++;
    if (start === 0 || text.charCodeAt(start - 1) !== 64 /* @ */ || inAuthority(start - 1) || !endsEmailLocalPart(text, start - 1)) {
      const host = trimDots(text.slice(start, end).toLowerCase());
      if (host.includes('.') && accept(host)) return host;
    }
    dot = text.indexOf('.', end);
  }
  return undefined;
}

export function compileShortenerDetector(extraDomains: readonly string[] = []): ShortenerDetector {
  const domains = new Set([...URL_SHORTENER_DOMAINS, ...extraDomains.map((domain) => domain.toLowerCase())]);
  // Only the last labels of a host can name a shortener: looking further back than the longest one
  // would only make hostile input (a 16 KB run of "a.a.a…") cost quadratic time.
  const longest = Math.max(...[...domains].map((domain) => domain.length));
  const isShortener = (host: string): boolean => {
    if (domains.has(host)) return true;
    const from = Math.max(0, host.length - longest - 1);
    for (let dot = host.indexOf('.', from); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      if (domains.has(host.slice(dot + 1))) return true;
    }
    return false;
  };
  const scan = (raw: string): string | undefined => firstHost(raw, isShortener);
  return {
    find(links, text) {
      for (const link of links) {
        const found = scan(link);
        if (found !== undefined) return found;
      }
      return scan(text);
    },
  };
}

import { domainToASCII } from 'node:url';
import { parse } from 'tldts';
import { asciiDomain } from './ascii-domain.ts';
import { firstHostIn, foldForHosts } from './url-shortener.ts';

/**
 * Does a text carry a link? A URL with a scheme (`https://…`, `ftp://intranet/…`), or a host a reader's
 * client turns into one: a name under a public suffix, ICANN or private (`evil-notes.com/login`,
 * `x.blogspot.com`), or a dotted IPv4 address. Email addresses are recipients, not links, and words
 * with a dot that end in no suffix (`e.g.`, `v1.2`, `agenda.docx`) are not hosts. File names that end
 * in a suffix (`notes.zip`) do count: a false alarm costs an approval, a missed link a phishing mail.
 * Markup that makes a link whatever its target (`<a href=…>`: calendar descriptions are HTML at Google)
 * and URLs with no host that run script or carry a whole page (`javascript:`, `data:text/html,…`) count too.
 * Hosts written in another script (`пример.рф`, a Cyrillic look-alike of a Latin name under `.com`) are
 * hosts as well: browsers and mail clients open them as their punycode form.
 */
const SCHEME = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s/?#]/i;
const MARKUP_OR_HOSTLESS_URL = /<\s*a[\s>/]|\b(?:href|src)\s*=|\b(?:javascript|vbscript):\S|\bdata:[\w.+/=;-]*,/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const PARSE = { allowPrivateDomains: true };
const NON_ASCII = /[^\x00-\x7f]/;
/**
 * Up to 256 characters of a host name in any script: letters, digits and marks, `-` and `.`. Bounded and
 * sticky, so a long run is read chunk by chunk (an unbounded match of a long run exhausts the stack).
 */
const HOST_CHUNK = /[\p{L}\p{N}\p{M}.-]{1,256}/uy;
/** A registrable name is a suffix and one label: its last few labels are all a host's link-ness depends on. */
const HOST_LABELS_READ = 4;
const MAX_LABEL = 63;

const isLinkHost = (host: string): boolean => {
  if (IPV4.test(host)) return true;
  const parsed = parse(host, PARSE);
  return parsed.domain !== null && parsed.isIp !== true && (parsed.isIcann === true || parsed.isPrivate === true);
};

/**
 * The punycode form of the last labels of a run of host characters, or null when it names no host. Only
 * the last labels are read (each cut to the longest a label may be), so a long run costs no more than a
 * short one.
 */
function asciiHostOf(run: string): string | null {
  const labels = run.split('.').filter((label) => label !== '');
  if (labels.length < 2) return null;
  const last = labels.slice(-HOST_LABELS_READ).map((label) => label.slice(-MAX_LABEL));
  const ascii = domainToASCII(last.join('.')).toLowerCase();
  return ascii === '' ? null : ascii;
}

/** Where the run of host characters starting at `start` ends (`start` when none starts there). */
function hostRunEnd(text: string, start: number): number {
  let end = start;
  for (;;) {
    HOST_CHUNK.lastIndex = end;
    if (HOST_CHUNK.exec(text) === null) return end;
    end = HOST_CHUNK.lastIndex;
  }
}

/**
 * The first host in the text written (at least in part) in another script than ASCII, as punycode, that
 * `accept` takes; undefined when none (ASCII hosts are firstHost's). One linear pass over the runs of host
 * characters.
 */
function firstInternationalHost(text: string, accept: (host: string) => boolean = isLinkHost): string | undefined {
  if (!NON_ASCII.test(text)) return undefined;
  const tailLength = HOST_LABELS_READ * (MAX_LABEL + 1);
  let index = 0;
  while (index < text.length) {
    const start = index;
    index = hostRunEnd(text, start);
    if (index === start) {
      index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
      continue;
    }
    // The domain of an email address is a recipient, not a link (a URL's user info has a scheme: SCHEME).
    if (start > 0 && text.charCodeAt(start - 1) === 64 /* @ */) continue;
    const tail = text.slice(Math.max(start, index - tailLength), index);
    if (!tail.includes('.') || !NON_ASCII.test(tail)) continue;
    const host = asciiHostOf(tail);
    if (host !== null && accept(host)) return host;
  }
  return undefined;
}

/** The first host a reader's client finds in the text, in any of the readings it may fold the text to. */
function firstLinkHost(raw: string): string | undefined {
  for (const text of foldForHosts(raw)) {
    const host = firstHostIn(text, isLinkHost) ?? firstInternationalHost(text);
    if (host !== undefined) return host;
  }
  return undefined;
}

/** The first link in the text (its host, else the scheme URL's start or the markup), or undefined. */
export function linkIn(text: string): string | undefined {
  const host = firstLinkHost(text);
  if (host !== undefined) return host;
  return SCHEME.exec(text)?.[0] ?? MARKUP_OR_HOSTLESS_URL.exec(text)?.[0];
}

/**
 * The registrable name of a host (its public suffix, ICANN or private, and one label more), in ASCII;
 * null when it has none: an IP address, a single label (`intranet`, `localhost`), a bare suffix. Pure.
 */
export function registrableDomainOf(host: string): string | null {
  const parsed = parse(asciiDomain(host), PARSE);
  return parsed.isIp === true ? null : parsed.domain;
}

/** A URL with a scheme and the host part of its authority (after any user info; a browser reads `\\` as `/`). */
const SCHEME_AUTHORITY = /\b[a-z][a-z0-9+.-]{1,15}:[/\\]{2,}([^\s/\\?#]+)/gi;
const LEADING_HOST = /^[\p{L}\p{N}.-]*/u;

/** The first URL with a scheme in the text whose host is not under `domains` (the URL's start), or undefined. */
function foreignSchemeUrl(text: string, isForeignHost: (host: string) => boolean): string | undefined {
  for (const match of text.matchAll(SCHEME_AUTHORITY)) {
    const authority = match[1] ?? '';
    const host = (LEADING_HOST.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[0] ?? '').replace(/^[.-]+|[.-]+$/g, '');
    if (host === '' || isForeignHost(host)) return match[0];
  }
  return undefined;
}

/**
 * The first link in the text that leads anywhere but under `domains` (registrable names in ASCII, as
 * registrableDomainOf gives them): its host, else the scheme URL or markup that makes it a link; undefined
 * when every link in it is under them. Links are found as linkIn finds them, in every reading of the text;
 * a host with no registrable name (an IP address, `intranet`), markup (`<a href=…>`) and URLs with no host
 * (`javascript:`, `data:`) lead under none. Pure.
 */
export function foreignLinkIn(text: string, domains: ReadonlySet<string>): string | undefined {
  const isForeignHost = (host: string): boolean => {
    const registrable = registrableDomainOf(host);
    return registrable === null || !domains.has(registrable);
  };
  const foreignLinkHost = (host: string): boolean => isLinkHost(host) && isForeignHost(host);
  for (const reading of foldForHosts(text)) {
    const found = firstHostIn(reading, foreignLinkHost) ?? firstInternationalHost(reading, foreignLinkHost) ?? foreignSchemeUrl(reading, isForeignHost);
    if (found !== undefined) return found;
  }
  return MARKUP_OR_HOSTLESS_URL.exec(text)?.[0];
}

import { parse } from 'tldts';
import { firstHost } from './url-shortener.ts';

/**
 * Does a text carry a link? A URL with a scheme (`https://…`, `ftp://intranet/…`), or a host a reader's
 * client turns into one: a name under a public suffix, ICANN or private (`evil-notes.com/login`,
 * `x.blogspot.com`), or a dotted IPv4 address. Email addresses are recipients, not links, and words
 * with a dot that end in no suffix (`e.g.`, `v1.2`, `agenda.docx`) are not hosts. File names that end
 * in a suffix (`notes.zip`) do count: a false alarm costs an approval, a missed link a phishing mail.
 * Markup that makes a link whatever its target (`<a href=…>`: calendar descriptions are HTML at Google)
 * and URLs with no host that run script or carry a whole page (`javascript:`, `data:text/html,…`) count too.
 */
const SCHEME = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s/?#]/i;
const MARKUP_OR_HOSTLESS_URL = /<\s*a[\s>/]|\b(?:href|src)\s*=|\b(?:javascript|vbscript):\S|\bdata:[\w.+/=;-]*,/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const PARSE = { allowPrivateDomains: true };

const isLinkHost = (host: string): boolean => {
  if (IPV4.test(host)) return true;
  const parsed = parse(host, PARSE);
  return parsed.domain !== null && parsed.isIp !== true && (parsed.isIcann === true || parsed.isPrivate === true);
};

/** The first link in the text (its host, else the scheme URL's start or the markup), or undefined. */
export function linkIn(text: string): string | undefined {
  const host = firstHost(text, isLinkHost);
  if (host !== undefined) return host;
  return SCHEME.exec(text)?.[0] ?? MARKUP_OR_HOSTLESS_URL.exec(text)?.[0];
}

/**
 * URL-shortener detection: a shortened link hides where it leads, so a message carrying one never sends
 * without approval. Hosts are matched exactly or as subdomains (`www.bit.ly`), never by suffix
 * (`habit.ly` is not `bit.ly`).
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

export function compileShortenerDetector(extraDomains: readonly string[] = []): ShortenerDetector {
  const domains = new Set([...URL_SHORTENER_DOMAINS, ...extraDomains.map((domain) => domain.toLowerCase())]);
  const isShortener = (host: string): boolean => {
    if (domains.has(host)) return true;
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      if (domains.has(host.slice(dot + 1))) return true;
    }
    return false;
  };
  // One linear pass: every run of host characters that contains a dot is a candidate host. (A regex
  // for host names backtracks badly on ordinary prose.)
  const scan = (text: string): string | undefined => {
    let dot = text.indexOf('.');
    while (dot !== -1) {
      let start = dot;
      while (start > 0 && isHostChar(text.charCodeAt(start - 1))) start--;
      let end = dot + 1;
      while (end < text.length && isHostChar(text.charCodeAt(end))) end++;
      // Skip the domain of an email address: that is a recipient, not a link.
      if (start === 0 || text.charCodeAt(start - 1) !== 64 /* @ */) {
        const host = trimDots(text.slice(start, end).toLowerCase());
        if (host.includes('.') && isShortener(host)) return host;
      }
      dot = text.indexOf('.', end);
    }
    return undefined;
  };
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

import { domainToUnicode } from 'node:url';
import { getDomainWithoutSuffix, getPublicSuffix } from 'tldts';
import { domainSkeleton, foldText } from '../../../agent-image/src/domain/auto-reply/confusables.ts';
import { asciiDomain, organisationalDomain } from '../../../agent-image/src/domain/sender-authentication/organisational-domain.ts';

/**
 * The linear look-alike check as it was before the compiled index (lookalike-domain.ts), kept verbatim
 * (with its edit distance) as the reference the index must agree with (lookalike-domain.test.ts) and the "before" of
 * tests/bench/lookalike.bench.ts. Not used by the agent.
 */
/** Levenshtein distance with adjacent transposition, stopping early above `limit`. */
function editDistance(a: string, b: string, limit = 2): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = rows[i] as number[];
      const above = rows[i - 1] as number[];
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row[j] = best;
    }
  }
  return rows[a.length]?.[b.length] ?? limit + 1;
}

export function referenceLookalikeOf(senderDomain: string, knownDomains: Iterable<string>): string | null {
  const sender = asciiDomain(senderDomain);
  if (sender === null) return null;
  const known = [...new Set([...knownDomains].map((domain) => asciiDomain(domain)).filter((domain): domain is string => domain !== null))];
  const senderOrg = organisationalDomain(sender);
  if (known.some((domain) => domain === sender || organisationalDomain(domain) === senderOrg)) return null;
  const senderSkeleton = domainSkeleton(domainToUnicode(sender));
  const senderLabel = getDomainWithoutSuffix(sender, { allowPrivateDomains: true }) ?? '';
  const senderSuffix = getPublicSuffix(sender, { allowPrivateDomains: true }) ?? '';
  for (const domain of known) {
    if (domainSkeleton(domainToUnicode(domain)) === senderSkeleton) return domain;
    const label = getDomainWithoutSuffix(domain, { allowPrivateDomains: true }) ?? '';
    const suffix = getPublicSuffix(domain, { allowPrivateDomains: true }) ?? '';
    const typo = Math.min(editDistance(foldText(label), foldText(senderLabel), 1), editDistance(domainSkeleton(label), domainSkeleton(senderLabel), 1));
    if (label.length >= 5 && senderSuffix === suffix && typo <= 1) return domain;
    if (label.length >= 4 && label === senderLabel && suffix !== senderSuffix) return domain;
    if (sender.startsWith(`${domain}.`)) return domain;
  }
  return null;
}

import { domainToUnicode } from 'node:url';
import { getDomainWithoutSuffix, getPublicSuffix } from 'tldts';
import { asciiDomain, organisationalDomain } from '../sender-authentication/organisational-domain.ts';
import { domainSkeleton, foldText } from './confusables.ts';

/**
 * Does a sender's domain imitate the domain of a known contact? Heuristics, each documented:
 *   1. homoglyphs: the same skeleton (Cyrillic/Greek letters, punycode, 0/o, 1/l, rn/m, vv/w);
 *   2. typo-squatting: the registrable label one edit away (insert, delete, substitute, swap) from a
 *      known one of at least five characters, under the same public suffix;
 *   3. another suffix: the same registrable label (at least four characters) under a different public
 *      suffix (partner.co);
 *   4. a known domain used as a prefix label (partner.com.evil.example).
 * A domain that is itself known, or in the same organisation as a known one, never matches. When several
 * known domains match, the answer is the first of them in the known set's order.
 *
 * Clients know tens of thousands of domains, so the known set is compiled once into an index
 * (compileLookalikeIndex) and a lookup no longer checks each known domain:
 *   1. skeleton → the first known domain with it;
 *   2. each known label, its folded form and its skeleton → the label. The sender's folded label and its
 *      skeleton are looked up with every string one edit away from them (insert or substitute any
 *      character of an indexed form, delete, swap neighbours), so every label the rule can match is found
 *      (a few hundred look-ups, whatever the number of known domains); editDistance then confirms each
 *      exactly as the rule states it, under the sender's suffix;
 *   3. the same map: the sender's label → the first domain with it under another suffix;
 *   4. each prefix of the sender that ends before a dot, looked up among the known domains.
 * Every rule yields the first matching known domain, and the earliest of those is the answer.
 * Pure: lookalikeOf keeps the index of the last known set it was given, a cache that changes no answer.
 */

/** The known domains, compiled for look-alike checks (see above). */
export type LookalikeIndex = {
  /** How many distinct known domains it holds (ASCII form; entries that are not domain names are left out). */
  readonly size: number;
  /** The known domain the sender's domain imitates, or null. */
  lookalikeOf(senderDomain: string): string | null;
};

/** Levenshtein distance with adjacent transposition, stopping early above `limit`. */
export function editDistance(a: string, b: string, limit = 2): number {
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

/** Compiles the known domains; their order decides which one is named when several match. */
export function compileLookalikeIndex(knownDomains: Iterable<string>): LookalikeIndex {
  const index = createIndex();
  for (const domain of knownDomains) index.add(domain);
  return index;
}

/** The known domain the sender's domain imitates, or null (through the compiled index of `knownDomains`). */
export function lookalikeOf(senderDomain: string, knownDomains: Iterable<string>): string | null {
  return indexOf(knownDomains).lookalikeOf(senderDomain);
}

// The agent rebuilds its known-domain set for every message it reads, so the cache compares contents,
// not identity: the same domains in the same order reuse the index, domains appended (a contact learnt)
// extend it, anything else compiles afresh. Comparing is one string comparison per known domain.
let last: { source: string[]; index: LookalikeIndexBuilder } | undefined;

function indexOf(knownDomains: Iterable<string>): LookalikeIndex {
  const source = last?.source ?? [];
  let matched = 0;
  let rest: string[] | undefined;
  for (const domain of knownDomains) {
    if (rest !== undefined) rest.push(domain);
    else if (matched < source.length && source[matched] === domain) matched++;
    else rest = [domain];
  }
  if (last !== undefined && matched === source.length) {
    for (const domain of rest ?? []) {
      last.index.add(domain);
      last.source.push(domain);
    }
    return last.index;
  }
  const fresh = [...source.slice(0, matched), ...(rest ?? [])];
  const index = createIndex();
  for (const domain of fresh) index.add(domain);
  last = { source: fresh, index };
  return index;
}

const PSL = { allowPrivateDomains: true };

type LookalikeIndexBuilder = LookalikeIndex & { add(domain: string): void };

/** A known registrable label of four characters or more (rules 2 and 3); positions are in the known order. */
type KnownLabel = {
  label: string;
  /** The suffix of its first domain, and that domain's position. */
  suffix: string;
  first: number;
  /** The other suffixes it occurs under, in order of first appearance, with the first domain under each. */
  others?: { suffix: string; first: number }[];
};

/** The first domain with the label under `suffix`. */
function firstUnder(known: KnownLabel, suffix: string): number | undefined {
  return known.suffix === suffix ? known.first : known.others?.find((other) => other.suffix === suffix)?.first;
}

/** The first domain with the label under a suffix other than `suffix`. */
function firstElsewhere(known: KnownLabel, suffix: string): number | undefined {
  return known.suffix !== suffix ? known.first : known.others?.[0]?.first;
}

/** The same string when equal, so that a derived form that did not change costs no memory. */
const same = (derived: string, original: string): string => (derived === original ? original : derived);

// About 250 bytes per known domain (25 MB for 100,000): a Map entry costs some 37 bytes, so each
// structure is one entry per domain or label, and strings that did not change are shared.
function createIndex(): LookalikeIndexBuilder {
  const domains: string[] = [];
  const positions = new Map<string, number>();
  const organisations = new Set<string | null>();
  const skeletons = new Map<string, number>();
  /** Each label, its folded form and its skeleton → the labels with that form (rules 2 and 3). */
  const forms = new Map<string, KnownLabel | KnownLabel[]>();
  /** Every UTF-16 unit of those forms (only they can turn a sender's label into one), and their lengths. */
  const alphabet = new Set<string>();
  const lengths = new Set<number>();
  const suffixes = new Map<string, string>();

  function file(form: string, known: KnownLabel): void {
    const filed = forms.get(form);
    if (filed === undefined) forms.set(form, known);
    else if (Array.isArray(filed)) filed.push(known);
    else forms.set(form, [filed, known]);
    for (let at = 0; at < form.length; at++) alphabet.add(form.charAt(at));
    lengths.add(form.length);
  }

  function labelled(form: string): KnownLabel[] {
    const filed = forms.get(form);
    return filed === undefined ? [] : Array.isArray(filed) ? filed : [filed];
  }

  function add(raw: string): void {
    const ascii = asciiDomain(raw);
    if (ascii === null || positions.has(ascii)) return;
    const domain = same(ascii, raw);
    const position = domains.length;
    domains.push(domain);
    positions.set(domain, position);
    const organisation = organisationalDomain(domain);
    organisations.add(organisation === null ? null : same(organisation, domain));
    const skeleton = domainSkeleton(domainToUnicode(domain));
    if (!skeletons.has(skeleton)) skeletons.set(same(skeleton, domain), position);
    const label = getDomainWithoutSuffix(domain, PSL) ?? '';
    if (label.length < 4) return;
    const parsedSuffix = getPublicSuffix(domain, PSL) ?? '';
    const suffix = suffixes.get(parsedSuffix) ?? parsedSuffix;
    suffixes.set(suffix, suffix);
    const known = labelled(label).find((candidate) => candidate.label === label);
    if (known !== undefined) {
      if (known.suffix !== suffix && known.others?.some((other) => other.suffix === suffix) !== true) (known.others ??= []).push({ suffix, first: position });
      return;
    }
    const entry: KnownLabel = { label, suffix, first: position };
    // Labels of four characters are filed for rule 3 only; rule 2 skips them.
    for (const form of label.length < 5 ? [label] : new Set([label, foldText(label), domainSkeleton(label)])) file(same(form, label), entry);
  }

  /** Labels with a form that is `text` or one edit (insert, delete, substitute, swap) from it. */
  function nearForms(text: string, found: Set<KnownLabel>): void {
    const visit = (form: string): void => {
      for (const known of labelled(form)) found.add(known);
    };
    // Only lengths that some form has are tried: a long sender label costs nothing against short ones.
    const length = text.length;
    if (lengths.has(length)) {
      visit(text);
      for (let at = 0; at < length; at++) {
        const head = text.slice(0, at);
        const rest = text.slice(at + 1);
        for (const unit of alphabet) visit(head + unit + rest);
        if (at + 1 < length) visit(head + text.charAt(at + 1) + text.charAt(at) + text.slice(at + 2));
      }
    }
    if (lengths.has(length - 1)) for (let at = 0; at < length; at++) visit(text.slice(0, at) + text.slice(at + 1));
    if (lengths.has(length + 1)) {
      for (let at = 0; at <= length; at++) {
        const head = text.slice(0, at);
        const tail = text.slice(at);
        for (const unit of alphabet) visit(head + unit + tail);
      }
    }
  }

  function lookalikeOf(senderDomain: string): string | null {
    const sender = asciiDomain(senderDomain);
    // A known sender has its own organisation among the known ones.
    if (sender === null || organisations.has(organisationalDomain(sender))) return null;
    let best = skeletons.get(domainSkeleton(domainToUnicode(sender))) ?? Infinity;
    const senderLabel = getDomainWithoutSuffix(sender, PSL) ?? '';
    const senderSuffix = getPublicSuffix(sender, PSL) ?? '';
    const folded = foldText(senderLabel);
    const skeleton = domainSkeleton(senderLabel);
    const candidates = new Set<KnownLabel>();
    for (const form of new Set([folded, skeleton])) nearForms(form, candidates);
    for (const candidate of candidates) {
      const position = firstUnder(candidate, senderSuffix);
      if (candidate.label.length < 5 || position === undefined || position >= best) continue;
      const typo = Math.min(editDistance(foldText(candidate.label), folded, 1), editDistance(domainSkeleton(candidate.label), skeleton, 1));
      if (typo <= 1) best = position;
    }
    for (const known of labelled(senderLabel)) {
      if (known.label === senderLabel) best = Math.min(best, firstElsewhere(known, senderSuffix) ?? Infinity);
    }
    for (let dot = sender.indexOf('.'); dot !== -1; dot = sender.indexOf('.', dot + 1)) {
      best = Math.min(best, positions.get(sender.slice(0, dot)) ?? Infinity);
    }
    return domains[best] ?? null;
  }

  return {
    get size() {
      return domains.length;
    },
    lookalikeOf,
    add,
  };
}

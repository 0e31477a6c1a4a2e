/**
 * A small "skeleton" in the spirit of Unicode TR39: text folded so that characters people cannot tell
 * apart compare equal. It covers the Cyrillic and Greek letters that look like Latin ones, full-width
 * forms (by NFKC), invisible characters, and the ASCII look-alikes used in domain squatting
 * (0/o, 1/l, capital I/l, rn/m, vv/w). Not the full confusables table: enough for the mail the agent judges,
 * documented so the gaps are known. Pure.
 */

const LOOKALIKE: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ɡ: 'g',
  А: 'a', В: 'b', Е: 'e', К: 'k', М: 'm', Н: 'h', О: 'o', Р: 'p', С: 'c', Т: 't', Х: 'x', І: 'i', Ј: 'j', Ѕ: 's',
  // Greek
  α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y',
  Α: 'a', Β: 'b', Ε: 'e', Ζ: 'z', Η: 'h', Ι: 'i', Κ: 'k', Μ: 'm', Ν: 'n', Ο: 'o', Ρ: 'p', Τ: 't', Υ: 'y', Χ: 'x',
  // Latin look-alikes
  ı: 'i', ł: 'l', ø: 'o',
};

const INVISIBLE = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff]/gu;

/** Text folded for matching words: NFKC, invisible characters dropped, look-alike letters to Latin, lower case. */
export function foldText(text: string): string {
  const normalised = text.normalize('NFKC').replace(INVISIBLE, '');
  let out = '';
  for (const char of normalised) out += LOOKALIKE[char] ?? char;
  return out.toLowerCase().normalize('NFC');
}

/** A domain's skeleton: folded, with the ASCII squatting swaps applied. Two domains that look alike share it. */
export function domainSkeleton(domain: string): string {
  // A capital I shows as l in most fonts; domains are case-insensitive, so it only matters here.
  return foldText(domain.replace(/[IΙІӀ]/g, 'l'))
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/0/g, 'o')
    .replace(/[1|]/g, 'l')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/[_-]/g, '');
}

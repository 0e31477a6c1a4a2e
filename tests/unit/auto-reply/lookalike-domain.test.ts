import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainToASCII } from 'node:url';
import fc from 'fast-check';
import { compileLookalikeIndex, lookalikeOf } from '../../../agent-image/src/domain/auto-reply/lookalike-domain.ts';
import { referenceLookalikeOf } from './lookalike-reference.ts';

// Real-looking domains: ICANN and private suffixes (co.uk, com.au, github.io, blogspot.com), IDN and
// punycode, short labels (rule 3 needs four characters, rule 2 five), hyphens, subdomains, near-duplicates.
const BASES = [
  'partner.com', 'partners.com', 'parnter.com', 'partner.co', 'mail.partner.com', 'acme.co.uk', 'acme.com', 'acme.io', 'acmes.co.uk',
  'gmail.com', 'gmai1.com', 'example.org', 'contoso.de', 'northwind.com.au', 'alice.github.io', 'bob-smith.github.io', 'github.io',
  'mybrand.blogspot.com', 'shop.example.co.jp', 'münchen.de', 'xn--mnchen-3ya.de', 'bücher.example', 'paypal.com', 'microsoft.com',
  'rnicrosoft.com', 'bank-of-x.com', 'abc.io', 'wwwidget.net', 'vvidget.net', 'co.uk', 'localhost', 'not a domain', '', 'a..b.com',
];
const SUFFIXES = ['com', 'co', 'net', 'org', 'de', 'co.uk', 'com.au', 'github.io', 'blogspot.com', 'example'];
const HOMOGLYPHS: [string, string][] = [['a', 'а'], ['e', 'е'], ['o', 'о'], ['o', '0'], ['l', '1'], ['i', 'і'], ['m', 'rn'], ['w', 'vv'], ['p', 'р'], ['c', 'с']];
const LETTERS = 'abcdeilmnoprstw0123-.';

const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,9}[a-z0-9]$/);
const base = fc.oneof(fc.constantFrom(...BASES), fc.tuple(label, fc.constantFrom(...SUFFIXES)).map(([name, suffix]) => `${name}.${suffix}`));

/** One look-alike move: a typo, a homoglyph, another suffix, a prefix or subdomain, case, punycode. */
const move = fc.tuple(fc.nat(12), fc.nat(), fc.nat()).map(([kind, at, pick]) => (domain: string): string => {
  const position = domain.length === 0 ? 0 : at % domain.length;
  const char = LETTERS[pick % LETTERS.length] ?? 'x';
  const [from, to] = HOMOGLYPHS[pick % HOMOGLYPHS.length] ?? ['a', 'а'];
  const firstDot = domain.indexOf('.');
  switch (kind) {
    case 0: return domain.slice(0, position) + char + domain.slice(position);
    case 1: return domain.slice(0, position) + domain.slice(position + 1);
    case 2: return domain.slice(0, position) + char + domain.slice(position + 1);
    case 3: return domain.slice(0, position) + domain.slice(position + 1, position + 2) + domain.slice(position, position + 1) + domain.slice(position + 2);
    case 4: return domain.replace(from, to);
    case 5: return firstDot === -1 ? domain : `${domain.slice(0, firstDot)}.${SUFFIXES[pick % SUFFIXES.length] ?? 'com'}`;
    case 6: return `${domain}.${pick % 2 === 0 ? 'evil.example' : 'co.uk'}`;
    case 7: return `mail.${domain}`;
    case 8: return pick % 2 === 0 ? domain.toUpperCase() : `${domain}.`;
    case 9: return domainToASCII(domain) || domain;
    default: return domain;
  }
});
const moved = (domain: string, moves: ((domain: string) => string)[]): string => moves.reduce((out, apply) => apply(out), domain);
const variant = fc.tuple(base, fc.array(move, { maxLength: 2 })).map(([domain, moves]) => moved(domain, moves));
/** A domain with look-alikes of its own, so that a sender often imitates several known domains at once. */
const family = fc.tuple(base, fc.array(fc.array(move, { minLength: 1, maxLength: 2 }), { maxLength: 6 })).map(([domain, movesList]) => [domain, ...movesList.map((moves) => moved(domain, moves))]);
const knownSet = fc.tuple(fc.array(family, { maxLength: 4 }), fc.array(variant, { maxLength: 12 }), fc.boolean()).map(([families, others, familiesFirst]) =>
  familiesFirst ? [...families.flat(), ...others] : [...others, ...families.flat()],
);
/** A known set and senders drawn from it, moved once or twice (a sixth imitate something, several often more than one known domain). */
const scenario = knownSet.chain((known) =>
  fc.tuple(
    fc.constant(known),
    fc.array(fc.oneof(variant, known.length === 0 ? variant : fc.tuple(fc.constantFrom(...known), fc.array(move, { minLength: 1, maxLength: 2 })).map(([domain, moves]) => moved(domain, moves))), {
      minLength: 1,
      maxLength: 6,
    }),
  ),
);

describe('look-alike index', () => {
  it('answers exactly as the linear check did, naming the same known domain, on generated known sets', () => {
    fc.assert(
      fc.property(scenario, ([known, senders]) => {
        const index = compileLookalikeIndex(known);
        for (const sender of senders) {
          const expected = referenceLookalikeOf(sender, known);
          assert.equal(index.lookalikeOf(sender), expected, `${sender} against ${JSON.stringify(known)}`);
          assert.equal(lookalikeOf(sender, known), expected, `${sender} against ${JSON.stringify(known)} (wrapper)`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('finds the match of the same typo, homoglyph or suffix among many near-duplicates in the known order', () => {
    const known = ['parlner.com', 'partner.co.uk', 'pаrtner.net', 'partnerr.com', 'partner.com', 'partner.org'];
    for (const sender of ['partner.net', 'partner.com.evil.example', 'partmer.com', 'pаrtner.com', 'xn--prtner-3nf.com', 'partner.de', 'partne.com']) {
      assert.equal(compileLookalikeIndex(known).lookalikeOf(sender), referenceLookalikeOf(sender, known), sender);
      assert.equal(compileLookalikeIndex([...known].reverse()).lookalikeOf(sender), referenceLookalikeOf(sender, [...known].reverse()), `${sender} reversed`);
    }
  });

  it('stays exact while the known set grows, shrinks, reorders or is changed in place between messages', () => {
    const step = fc.tuple(fc.nat(4), fc.array(variant, { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean());
    fc.assert(
      fc.property(knownSet, fc.array(fc.tuple(step, variant), { minLength: 1, maxLength: 12 }), (start, steps) => {
        const known = new Set(start);
        for (const [[kind, domains, at, fresh], sender] of steps) {
          const list = [...known];
          const victim = list[at % Math.max(list.length, 1)];
          if (kind === 0) for (const domain of domains) known.add(domain);
          else if (kind === 1 && victim !== undefined) known.delete(victim);
          else if (kind === 2 && victim !== undefined) {
            known.delete(victim);
            known.add(victim);
          }
          const given = fresh ? new Set(known) : known;
          const probe = domains[0] ?? sender;
          for (const candidate of [sender, probe, `${probe}.evil.example`]) {
            assert.equal(lookalikeOf(candidate, given), referenceLookalikeOf(candidate, given), `${candidate} against ${JSON.stringify([...given])}`);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('compiles 100,000 known domains once and answers many lookups from them', () => {
    let seed = 7;
    // mulberry32: a linear congruential generator repeats its ten-letter words far too soon.
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let mixed = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
      return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
    };
    const word = (length: number): string => Array.from({ length }, () => 'bcdfghjkpqstxz'[Math.floor(random() * 14)]).join('');
    const suffixes = ['com', 'co.uk', 'de', 'github.io', 'com.au'];
    const domains = Array.from({ length: 100_000 }, (_, position) => `${word(10)}.${suffixes[position % suffixes.length]}`);
    const index = compileLookalikeIndex(domains);
    assert.equal(index.size, 100_000);
    for (let step = 0; step < 500; step++) {
      const domain = domains[Math.floor(random() * domains.length)] ?? '';
      const [name = '', ...rest] = domain.split('.');
      const suffix = rest.join('.');
      assert.equal(index.lookalikeOf(domain), null, domain);
      assert.equal(index.lookalikeOf(`mail.${domain}`), null, domain);
      assert.equal(index.lookalikeOf(`${name.slice(0, 4)}${name.slice(5)}.${suffix}`), domain, `deletion of ${domain}`);
      assert.equal(index.lookalikeOf(`${name.slice(0, 3)}${name[4]}${name[3]}${name.slice(5)}.${suffix}`), name[3] === name[4] ? null : domain, `swap in ${domain}`);
      assert.equal(index.lookalikeOf(`${name}.${suffix === 'de' ? 'fr' : 'de'}`), domain, `other suffix of ${domain}`);
      assert.equal(index.lookalikeOf(`${domain}.evil.example`), domain, `prefix ${domain}`);
      assert.equal(index.lookalikeOf(`${name.replace('c', 'с')}.${suffix}`), name.includes('c') ? domain : null, `homoglyph of ${domain}`);
      assert.equal(index.lookalikeOf(`${word(10)}.example`), null);
    }
    // Through the wrapper, given a fresh copy per message as the agent does, then one domain learnt.
    const learnt = [...domains];
    for (let message = 0; message < 20; message++) assert.equal(lookalikeOf('bcdfghjkpq.com.evil.example', new Set(learnt)), null);
    learnt.push('bcdfghjkpq.com');
    assert.equal(lookalikeOf('bcdfghjkpq.com.evil.example', new Set(learnt)), 'bcdfghjkpq.com');
  });
});

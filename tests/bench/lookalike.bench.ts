/**
 * The look-alike sender check (lookalike-domain.ts) per inbound message against 1,000, 10,000 and 100,000
 * known domains: before (the linear check, kept as tests/unit/auto-reply/lookalike-reference.ts) and after
 * (the compiled index), both on the same senders, whose answers must agree. "After" is measured twice:
 * with the index held (`compileLookalikeIndex`) and through `lookalikeOf(sender, knownDomains)` given a
 * fresh but equal set per message, as the agent calls it today (the cache compares contents). Also the
 * one-off compile time and the index's heap. Prints JSON. Env: LOOKALIKE_BENCH_SIZES (comma-separated).
 */
import os from 'node:os';
import { compileLookalikeIndex, lookalikeOf } from '../../agent-image/src/domain/auto-reply/lookalike-domain.ts';
import { referenceLookalikeOf } from '../unit/auto-reply/lookalike-reference.ts';

const SIZES = (process.env['LOOKALIKE_BENCH_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
const SENDERS = 400;
/** The linear check takes seconds at 100,000 domains: it gets about this much time per size. */
const BEFORE_BUDGET_MS = 8_000;

function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = mulberry32(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const SYLLABLES = ['ac', 'me', 'part', 'ner', 'north', 'wind', 'con', 'to', 'so', 'fab', 'ri', 'kam', 'glo', 'bex', 'data', 'soft', 'tech', 'lab', 'berg', 'haus', 'mann', 'ville', 'ex', 'pay', 'bank', 'law', 'med', 'i', 'o', 'an', 'el', 'strat', 'cloud', 'mail', 'shop'];
const SUFFIXES = ['com', 'com', 'com', 'com', 'de', 'co.uk', 'fr', 'org', 'net', 'io', 'com.au', 'nl', 'ch', 'github.io', 'blogspot.com', 'co.jp'];
function knownDomain(): string {
  const parts = Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(SYLLABLES));
  if (random() < 0.1) parts.splice(1, 0, '-');
  if (random() < 0.1) parts.push(String(Math.floor(random() * 100)));
  const sub = random() < 0.1 ? `${pick(['mail', 'eu', 'us', 'corp'])}.` : '';
  const idn = random() < 0.02 ? 'ü' : '';
  return `${sub}${parts.join('')}${idn}.${pick(SUFFIXES)}`;
}

/** A sender: a known domain, a stranger, or a look-alike of a known one (typo, homoglyph, suffix, prefix). */
function sender(known: readonly string[]): string {
  const roll = random();
  const domain = pick(known);
  if (roll < 0.3) return domain;
  if (roll < 0.7) return knownDomain();
  const dot = domain.indexOf('.');
  const at = Math.floor(random() * Math.max(dot, 1));
  switch (Math.floor(random() * 5)) {
    case 0: return `${domain.slice(0, at)}${domain.slice(at + 1)}`;
    case 1: return `${domain.slice(0, at)}x${domain.slice(at)}`;
    case 2: return domain.replace('a', 'а').replace('o', '0');
    case 3: return `${domain.slice(0, dot)}.${pick(SUFFIXES)}`;
    default: return `${domain}.secure-login.example`;
  }
}

const heap = (): number => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

const results = [];
for (const size of SIZES) {
  const known = new Set<string>();
  while (known.size < size) known.add(knownDomain());
  const list = [...known];
  const senders = Array.from({ length: SENDERS }, () => sender(list));

  const heapBefore = heap();
  let started = performance.now();
  const index = compileLookalikeIndex(known);
  const compileMs = performance.now() - started;
  const indexHeapBytes = heap() - heapBefore;

  let matches = 0;
  started = performance.now();
  const after = senders.map((domain) => index.lookalikeOf(domain));
  const heldMicroseconds = ((performance.now() - started) / senders.length) * 1000;
  for (const answer of after) if (answer !== null) matches++;

  // Two equal sets with different identities, alternated: the cache cannot short-cut on identity.
  const copies = [new Set(list), new Set(list)];
  lookalikeOf('warm.example', copies[0]!);
  started = performance.now();
  for (const [position, domain] of senders.entries()) {
    if (lookalikeOf(domain, copies[position % 2]!) !== after[position]) throw new Error(`wrapper disagrees on ${domain}`);
  }
  const wrapperMicroseconds = ((performance.now() - started) / senders.length) * 1000;

  let checked = 0;
  started = performance.now();
  while (checked < senders.length && (checked < 3 || performance.now() - started < BEFORE_BUDGET_MS)) {
    const domain = senders[checked]!;
    if (referenceLookalikeOf(domain, known) !== after[checked]) throw new Error(`before and after disagree on ${domain}`);
    checked++;
  }
  const beforeMicroseconds = ((performance.now() - started) / checked) * 1000;

  results.push({
    knownDomains: size,
    perMessageMicroseconds: {
      before: round(beforeMicroseconds, 0),
      afterHeldIndex: round(heldMicroseconds),
      afterLookalikeOfFreshEqualSet: round(wrapperMicroseconds),
    },
    speedupHeldIndex: round(beforeMicroseconds / heldMicroseconds, 0),
    compileMs: round(compileMs, 1),
    indexHeapMB: round(indexHeapBytes / 1e6, 1),
    senders: senders.length,
    lookalikes: matches,
    beforeSendersTimedAndCompared: checked,
  });
}

console.log(
  JSON.stringify(
    {
      benchmark: 'lookalike',
      loadAverage1m: round(os.loadavg()[0]!),
      heapMeasured: typeof globalThis.gc === 'function',
      results,
      note: 'per message: one lookalikeOf call; the fresh-set figure includes the cache comparing the set to the last one, not building it',
    },
    null,
    2,
  ),
);

import { createRequire, syncBuiltinESMExports } from 'node:module';
import type * as NodeUrl from 'node:url';

/**
 * The work a call does, counted in steps instead of timed: characters scanned or copied by the string
 * built-ins it calls (`indexOf`, `slice`, `substring`, `charCodeAt`, `codePointAt`), characters handed to IDNA
 * (`domainToASCII`), and calls of `RegExp#exec` and `Set#has`. The policy gate's host scanners do their work
 * through these, so a scan that goes over the same text again, or copies ever longer slices, shows up as
 * more steps whatever the machine's speed.
 */
export function stepsOf(run: () => unknown): number {
  let steps = 0;
  const strings = String.prototype;
  const url = createRequire(import.meta.url)('node:url') as typeof NodeUrl;
  const originals = {
    indexOf: strings.indexOf,
    slice: strings.slice,
    substring: strings.substring,
    charCodeAt: strings.charCodeAt,
    codePointAt: strings.codePointAt,
    exec: RegExp.prototype.exec,
    has: Set.prototype.has,
    domainToASCII: url.domainToASCII,
  };
  strings.indexOf = function (this: string, search: string, from?: number) {
    const found = originals.indexOf.call(this, search, from);
    steps += (found === -1 ? this.length : found + 1) - Math.max(0, from ?? 0);
    return found;
  };
  strings.slice = function (this: string, start?: number, end?: number) {
    const part = originals.slice.call(this, start, end);
    steps += part.length;
    return part;
  };
  strings.substring = function (this: string, start: number, end?: number) {
    const part = originals.substring.call(this, start, end);
    steps += part.length;
    return part;
  };
  strings.charCodeAt = function (this: string, index: number) {
    steps++;
    return originals.charCodeAt.call(this, index);
  };
  strings.codePointAt = function (this: string, index: number) {
    steps++;
    return originals.codePointAt.call(this, index);
  };
  RegExp.prototype.exec = function (this: RegExp, text: string) {
    steps++;
    return originals.exec.call(this, text);
  };
  Set.prototype.has = function (this: Set<unknown>, value: unknown) {
    steps++;
    return originals.has.call(this, value);
  };
  url.domainToASCII = (domain: string) => {
    steps += domain.length;
    return originals.domainToASCII(domain);
  };
  // The gate imports domainToASCII by name: its binding follows the module object only once synced.
  syncBuiltinESMExports();
  try {
    run();
  } finally {
    Object.assign(strings, { indexOf: originals.indexOf, slice: originals.slice, substring: originals.substring, charCodeAt: originals.charCodeAt, codePointAt: originals.codePointAt });
    RegExp.prototype.exec = originals.exec;
    Set.prototype.has = originals.has;
    url.domainToASCII = originals.domainToASCII;
    syncBuiltinESMExports();
  }
  return steps;
}

/**
 * Asserts that the work grows no faster than the input: `build(size)` makes an input of about `size`
 * characters, and doubling it may at most double its steps (plus a quarter for what does not scale
 * evenly); a scan that reads its input again for each part of it grows fourfold.
 */
export function assertLinearWork(label: string, build: (size: number) => () => unknown, size: number): void {
  const small = stepsOf(build(size));
  const large = stepsOf(build(size * 2));
  if (large > small * 2.25 + 1000) {
    throw new Error(`${label}: ${small} steps for ${size} characters, ${large} for twice as many (more than linear)`);
  }
}

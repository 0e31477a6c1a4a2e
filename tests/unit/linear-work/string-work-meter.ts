/**
 * Counts the characters that string built-ins read or copy while `work` runs (synchronously): how far each
 * regular-expression match attempt advanced over its input, how far `indexOf` and its kin scanned, what
 * `slice` copied, and whole passes such as `normalize`. A test states "linear in the input" as this count
 * growing at most in proportion to the input, which no machine's speed or load can change. What it cannot
 * see is backtracking inside one match attempt: a pattern's own linearity is shown by the shape of the
 * pattern, not here.
 */

type Method = (this: unknown, ...args: unknown[]) => unknown;

const PASSES = ['normalize', 'toLowerCase', 'toUpperCase', 'trim', 'trimEnd', 'trimStart'] as const;
const COPIES = ['slice', 'substring'] as const;
const SCANS = ['indexOf', 'lastIndexOf', 'includes', 'startsWith', 'endsWith'] as const;
const WITH_PATTERN = ['replace', 'replaceAll', 'split', 'match', 'matchAll', 'search'] as const;

function scanned(name: (typeof SCANS)[number], text: string, args: unknown[], result: unknown): number {
  const needle = String(args[0]);
  if (name === 'startsWith' || name === 'endsWith') return needle.length;
  const from = typeof args[1] === 'number' ? Math.max(0, Math.min(args[1], text.length)) : name === 'lastIndexOf' ? text.length : 0;
  if (name === 'indexOf' && typeof result === 'number' && result !== -1) return result - from + needle.length;
  if (name === 'lastIndexOf' && typeof result === 'number' && result !== -1) return from - result + needle.length;
  return text.length - (name === 'lastIndexOf' ? 0 : from);
}

/**
 * Runs `work` with the string built-ins metered; returns its result and the characters read. Past `budget`
 * characters it throws at once, so that work gone quadratic fails its test instead of running for minutes.
 */
export function measureStringWork<T>(work: () => T, budget = Number.POSITIVE_INFINITY): { result: T; charactersRead: number } {
  let charactersRead = 0;
  const count = (characters: number) => {
    charactersRead += characters;
    if (charactersRead > budget) throw new Error(`read more than ${budget} characters: not linear in the input`);
  };
  const restore: (() => void)[] = [];
  const wrap = (target: object, name: string, cost: (self: unknown, args: unknown[], result: unknown) => number) => {
    const original = (target as Record<string, Method>)[name]!;
    (target as Record<string, Method>)[name] = function metered(this: unknown, ...args: unknown[]) {
      const result = Reflect.apply(original, this, args);
      count(cost(this, args, result));
      return result;
    };
    restore.push(() => ((target as Record<string, Method>)[name] = original));
  };
  // Every regular-expression method (test, replace, split, matchAll, ...) goes through exec once it is replaced.
  const originalExec = RegExp.prototype.exec;
  RegExp.prototype.exec = function metered(this: RegExp, input: string) {
    const start = this.global || this.sticky ? this.lastIndex : 0;
    const match = Reflect.apply(originalExec, this, [input]) as RegExpExecArray | null;
    const text = String(input);
    count(match !== null ? match.index + match[0].length - start : this.sticky ? 1 : Math.max(0, text.length - start));
    return match;
  };
  restore.push(() => (RegExp.prototype.exec = originalExec));
  for (const name of PASSES) wrap(String.prototype, name, (self) => String(self).length);
  for (const name of COPIES) wrap(String.prototype, name, (_self, _args, result) => String(result).length);
  for (const name of SCANS) wrap(String.prototype, name, (self, args, result) => scanned(name, String(self), args, result));
  // A plain-string pattern is one pass over the text; a regular expression is counted by exec.
  for (const name of WITH_PATTERN) wrap(String.prototype, name, (self, args) => (args[0] instanceof RegExp ? 0 : String(self).length));
  try {
    return { result: work(), charactersRead };
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

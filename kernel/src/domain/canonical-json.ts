import { createHash } from 'node:crypto';

/**
 * The one canonical JSON of the code base (approval hashes, audit record hashes, the orchestrator's
 * ops-log chain): object keys sorted, no whitespace, `undefined` object members omitted (as JSON does).
 * Throws a TypeError on anything JSON cannot represent faithfully (non-finite numbers, bigints,
 * functions, symbols, `undefined` in arrays, class instances, cycles), so two different values can never
 * share a canonical form.
 */
export function canonicalJson(value: unknown): string {
  return canonical(value, 0);
}

const MAX_DEPTH = 64;

function canonical(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new TypeError('value nests too deeply (or is cyclic)');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number in canonical JSON');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          if (item === undefined) throw new TypeError('undefined in an array');
          out += (index === 0 ? '' : ',') + canonical(item, depth + 1);
        }
        return `${out}]`;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) throw new TypeError('not a plain object');
      const object = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const key of Object.keys(object).sort()) {
        const inner = object[key];
        if (inner === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${canonical(inner, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`${typeof value} is not JSON`);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export const GENESIS_HASH = '0'.repeat(64);

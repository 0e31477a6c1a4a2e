import { canonicalJson } from './canonical-json.ts';

/**
 * A field-level difference between two settings documents: one entry per leaf field that changed
 * (`rateLimits.perHour: 20 → 40`), and for lists of plain values what was added and removed
 * (`blockList: +rival.com`). Lists of objects (templates, opt-ins) change as a whole. Pure.
 */

export type JsonScalar = string | number | boolean | null;
export type SettingsJson = JsonScalar | SettingsJson[] | { [key: string]: SettingsJson };

export interface SettingsChange {
  /** Dotted path of the field, e.g. `rateLimits.perHour`, `permissions.mail.send`. */
  path: string;
  /** The value before (absent when the field was not set). */
  before?: SettingsJson;
  /** The value after (absent when the field was removed). */
  after?: SettingsJson;
  /** For a list of plain values: the items added. */
  added?: JsonScalar[];
  /** For a list of plain values: the items removed. */
  removed?: JsonScalar[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown): value is JsonScalar =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

function plain(value: unknown): SettingsJson | undefined {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as SettingsJson);
}

const same = (a: unknown, b: unknown) => canonicalJson(plain(a) ?? null) === canonicalJson(plain(b) ?? null);

export function diffSettings(before: unknown, after: unknown): SettingsChange[] {
  const changes: SettingsChange[] = [];
  walk(plain(before), plain(after), '', changes);
  return changes;
}

function walk(before: SettingsJson | undefined, after: SettingsJson | undefined, path: string, out: SettingsChange[]): void {
  if (before === undefined && after === undefined) return;
  if (isObject(before) && isObject(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      walk(before[key], after[key], path === '' ? key : `${path}.${key}`, out);
    }
    return;
  }
  if (before !== undefined && after !== undefined && same(before, after)) return;
  const change: SettingsChange = { path: path === '' ? '(document)' : path };
  if (Array.isArray(before) && Array.isArray(after) && before.every(isScalar) && after.every(isScalar)) {
    const beforeSet = new Set(before.map((item) => canonicalJson(item)));
    const afterSet = new Set(after.map((item) => canonicalJson(item)));
    change.added = after.filter((item) => !beforeSet.has(canonicalJson(item)));
    change.removed = before.filter((item) => !afterSet.has(canonicalJson(item)));
    if (change.added.length === 0 && change.removed.length === 0) {
      change.before = before;
      change.after = after;
    }
    out.push(change);
    return;
  }
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  out.push(change);
}

/** One line per change, for the CLI and the ops log: `blockList: +rival.com −old.com`, `rateLimits.perHour: 20 → 40`. */
export function describeChange(change: SettingsChange, maxItems = 5): string {
  const show = (value: SettingsJson | undefined) => (value === undefined ? '(unset)' : JSON.stringify(value));
  if (change.added !== undefined || change.removed !== undefined) {
    const items = [...(change.added ?? []).map((item) => `+${String(item)}`), ...(change.removed ?? []).map((item) => `−${String(item)}`)];
    if (items.length === 0) return `${change.path}: reordered`;
    const more = items.length > maxItems ? ` (+${items.length - maxItems} more)` : '';
    return `${change.path}: ${items.slice(0, maxItems).join(' ')}${more}`;
  }
  return `${change.path}: ${show(change.before)} → ${show(change.after)}`;
}

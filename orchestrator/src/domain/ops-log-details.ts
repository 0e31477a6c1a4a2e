import { canonicalJson } from '@agent-fleet/kernel/canonical-json';

/**
 * The most an entry's details take, in bytes of canonical JSON (UTF-8). Readers page the log by rows; with
 * this bound a page of entries is bounded in bytes too, whatever a caller put in the details.
 */
export const MAX_OPS_LOG_DETAILS_BYTES = 64 * 1024;

/** The key of the marker that replaces details over the bound (what they took, and the bound). */
export const DETAILS_TRUNCATED_KEY = 'detailsTruncated';

/** Top-level values kept beside the marker: short scalars (ids, counts, flags), what readers select entries by. */
const MAX_KEPT_CHARS = 200;
const KEPT_BUDGET_BYTES = MAX_OPS_LOG_DETAILS_BYTES / 2;

const isShortScalar = (value: unknown): boolean =>
  value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= MAX_KEPT_CHARS);

/**
 * The details an entry is written with: as given when their canonical JSON is within
 * `MAX_OPS_LOG_DETAILS_BYTES`; otherwise their short top-level scalars and a marker saying how many bytes
 * were left out. The entry is hashed over what is returned, so its chain verifies as any other; the cut is
 * on the record, never silent. Throws as `canonicalJson` does on what JSON cannot hold (the append fails).
 */
export function boundOpsLogDetails(details: Record<string, unknown>): Record<string, unknown> {
  const bytes = Buffer.byteLength(canonicalJson(details));
  if (bytes <= MAX_OPS_LOG_DETAILS_BYTES) return details;
  const kept: [string, unknown][] = [];
  let keptBytes = 0;
  for (const [key, value] of Object.entries(details)) {
    if (key === DETAILS_TRUNCATED_KEY || key.length > MAX_KEPT_CHARS || !isShortScalar(value)) continue;
    const size = Buffer.byteLength(canonicalJson({ [key]: value }));
    if (keptBytes + size > KEPT_BUDGET_BYTES) break;
    kept.push([key, value]);
    keptBytes += size;
  }
  // fromEntries defines own properties: a `__proto__` key stays a key, not the result's prototype.
  return Object.fromEntries([...kept, [DETAILS_TRUNCATED_KEY, { bytes, limitBytes: MAX_OPS_LOG_DETAILS_BYTES, keysLeftOut: Object.keys(details).length - kept.length }]]);
}

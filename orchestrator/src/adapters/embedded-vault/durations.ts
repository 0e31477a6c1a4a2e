import { badRequest } from './vault-http-error.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION_PATTERN = /^(\d+(s|m|h|d))+$/;

/**
 * Parses a Vault duration ("60s", "1h30m", "24h", or a number of seconds) into whole seconds.
 * Returns undefined for an absent value; throws a 400 for anything malformed.
 */
export function parseDurationSeconds(raw: unknown, field: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0) throw badRequest(`invalid duration for ${field}`);
    return raw;
  }
  if (typeof raw !== 'string') throw badRequest(`invalid duration for ${field}`);
  if (/^\d+$/.test(raw)) return Number(raw);
  if (!DURATION_PATTERN.test(raw))
    throw badRequest(`invalid duration for ${field}: ${JSON.stringify(raw.slice(0, 32))}`);
  let total = 0;
  for (const match of raw.matchAll(/(\d+)(s|m|h|d)/g)) {
    total += Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
  }
  return total;
}

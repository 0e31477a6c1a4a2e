import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';

/** What the Gmail adapter's parts share: the API client and the one call wrapper (errors, logging). */
export interface GmailApi {
  gmail: gmail_v1.Gmail;
  call<T>(operation: string, request: () => Promise<T>): Promise<T>;
}

export function requireString(value: string | null | undefined, what: string): string {
  if (typeof value !== 'string' || value === '') throw new FleetError('integrity', `gmail answer without ${what}`);
  return value;
}

/** Whether a value is a history id as Gmail writes them: a decimal uint64 (up to 30 digits accepted, as cursors are). */
export function isHistoryId(value: string): boolean {
  return /^\d{1,30}$/.test(value);
}

/**
 * History ids are decimal uint64 strings; compare as BigInt so the cursor never moves backwards. One
 * that is not (a server's answer) is an integrity error, not BigInt's SyntaxError.
 */
export function maxHistoryId(a: string, b: string): string {
  if (!isHistoryId(a) || !isHistoryId(b)) throw new FleetError('integrity', 'gmail answered a history id that is not a decimal number');
  return BigInt(b) > BigInt(a) ? b : a;
}

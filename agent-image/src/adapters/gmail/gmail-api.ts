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

/** History ids are decimal uint64 strings; compare as BigInt so the cursor never moves backwards. */
export function maxHistoryId(a: string, b: string): string {
  return BigInt(b) > BigInt(a) ? b : a;
}

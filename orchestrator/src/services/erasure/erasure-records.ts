import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ERASE_ACTION } from '../../domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';

/**
 * Erasure requests and erasures live in the hash-chained ops log: `erasure-request` when a request is
 * received (its 30-day deadline starts then), `erase` (with the deletion certificate) when it is done.
 * A request without an `erase` after it is open. Pure.
 */
export const ERASURE_REQUEST_ACTION = 'erasure-request';
export { ERASE_ACTION };

/** The law's deadline: erase within 30 days of receiving the request. */
export const ERASURE_DEADLINE_DAYS = 30;
const DAY_MS = 86_400_000;

const REQUEST_ID_RULE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function parseRequestId(value: unknown): string {
  if (typeof value !== 'string' || !REQUEST_ID_RULE.test(value)) {
    throw new FleetError('invalid_input', 'a request id is 1-64 characters of letters, digits and . _ : - (e.g. DSR-2026-014), starting with a letter or digit');
  }
  return value;
}

export interface ErasureRequest {
  clientId: string;
  requestId: string;
  /** When the request was received (the deadline counts from here). */
  receivedAt: string;
  deadline: string;
  requestedBy: string;
  /** When the erasure was done; null while the request is open. */
  erasedAt: string | null;
}

export function deadlineOf(receivedAt: Date): Date {
  return new Date(receivedAt.getTime() + ERASURE_DEADLINE_DAYS * DAY_MS);
}

/** Every erasure request in the log (oldest first), with whether it was carried out. */
export function foldErasureRequests(entries: readonly OpsLogEntry[]): ErasureRequest[] {
  const requests = new Map<string, ErasureRequest>();
  for (const entry of entries) {
    if (entry.clientId === null) continue;
    const requestId = typeof entry.details['requestId'] === 'string' ? entry.details['requestId'] : null;
    if (requestId === null) continue;
    const key = `${entry.clientId}\u0000${requestId}`;
    if (entry.action === ERASURE_REQUEST_ACTION && !requests.has(key)) {
      const receivedAt = typeof entry.details['receivedAt'] === 'string' ? entry.details['receivedAt'] : entry.at;
      requests.set(key, {
        clientId: entry.clientId,
        requestId,
        receivedAt,
        deadline: deadlineOf(new Date(receivedAt)).toISOString(),
        requestedBy: entry.actor,
        erasedAt: null,
      });
    } else if (entry.action === ERASE_ACTION && entry.outcome === 'success') {
      // One erasure settles every request of the client: nothing of it is left to erase.
      for (const request of requests.values()) if (request.clientId === entry.clientId && request.erasedAt === null) request.erasedAt = entry.at;
    }
  }
  return [...requests.values()];
}

export function openErasureRequests(entries: readonly OpsLogEntry[]): ErasureRequest[] {
  return foldErasureRequests(entries).filter((request) => request.erasedAt === null);
}

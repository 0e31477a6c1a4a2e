import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { CLIENT_DELETION_ACTIONS, ERASE_ACTION } from '../../domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';

/**
 * Erasure requests and erasures live in the hash-chained ops log: `erasure-request` when a request is
 * received (its 30-day deadline starts then), `erase` (with the deletion certificate) when it is done.
 * A request without an `erase` after it is open. An erasure that starts records an `erase` entry with the
 * outcome `started` first, so that a run cut off half way is known as such by the next. Pure.
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

/** The outcome of the `erase` entry an erasure writes before it removes anything. */
export const ERASE_STARTED = 'started';

/** Every erasure request in the log (oldest first), with whether it was carried out. */
export function foldErasureRequests(entries: readonly OpsLogEntry[]): ErasureRequest[] {
  const all: ErasureRequest[] = [];
  // The open requests by client and id: once settled, the same id names a new request (a client made again).
  const open = new Map<string, ErasureRequest>();
  for (const entry of entries) {
    if (entry.clientId === null) continue;
    if (entry.action === ERASE_ACTION && entry.outcome === 'success') {
      // One erasure settles every request of the client: nothing of it is left to erase.
      for (const [key, request] of open) {
        if (request.clientId !== entry.clientId) continue;
        request.erasedAt = entry.at;
        open.delete(key);
      }
      continue;
    }
    const requestId = typeof entry.details['requestId'] === 'string' ? entry.details['requestId'] : null;
    if (requestId === null || entry.action !== ERASURE_REQUEST_ACTION) continue;
    const key = `${entry.clientId}\u0000${requestId}`;
    if (open.has(key)) continue;
    const receivedAt = typeof entry.details['receivedAt'] === 'string' ? entry.details['receivedAt'] : entry.at;
    const request: ErasureRequest = {
      clientId: entry.clientId,
      requestId,
      receivedAt,
      deadline: deadlineOf(new Date(receivedAt)).toISOString(),
      requestedBy: entry.actor,
      erasedAt: null,
    };
    open.set(key, request);
    all.push(request);
  }
  return all;
}

/**
 * The `started` record of an erasure of the client's current life (since its last deletion) that never
 * finished, if any: the next run of the erasure resumes it.
 */
export function unfinishedErasure(entries: readonly OpsLogEntry[], clientId: string): OpsLogEntry | null {
  let started: OpsLogEntry | null = null;
  for (const entry of entries) {
    if (entry.clientId !== clientId) continue;
    if (CLIENT_DELETION_ACTIONS.has(entry.action) && entry.outcome === 'success') started = null;
    else if (entry.action === ERASE_ACTION && entry.outcome === ERASE_STARTED) started ??= entry;
  }
  return started;
}

/**
 * The entries of a client's current life: those after its last deletion (an erasure or a purge). A client
 * id can be provisioned again once its client was deleted, by anyone; the entries of the earlier client
 * (its deletion certificate, its kills, who of the team accessed it) are not the new client's data.
 */
export function currentLife(entries: readonly OpsLogEntry[]): OpsLogEntry[] {
  const lastDeletion = entries.findLastIndex((entry) => entry.clientId !== null && CLIENT_DELETION_ACTIONS.has(entry.action) && entry.outcome === 'success');
  return entries.slice(lastDeletion + 1);
}

export function openErasureRequests(entries: readonly OpsLogEntry[]): ErasureRequest[] {
  return foldErasureRequests(entries).filter((request) => request.erasedAt === null);
}

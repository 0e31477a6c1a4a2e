import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';
import type { StoppedBy } from '../client-gateway.ts';
import type { StopAuthors } from '../stop-rights.ts';

/** The ops-log actions that start or end a stop. */
export const STOP_ACTIONS = ['kill', 'revive'] as const;

const CLIENT_ADMIN = 'client-admin:';

/** Who an ops-log actor is to a client admin: one of the client's admins by address, anyone else the agency. */
function stoppedByOf(actor: string): StoppedBy | null {
  if (actor.startsWith(CLIENT_ADMIN) && actor.length > CLIENT_ADMIN.length) {
    return { kind: 'client-admin', email: actor.slice(CLIENT_ADMIN.length) };
  }
  // An erased actor (the client's erasure) names nobody.
  return actor.trim() === '' ? null : { kind: 'agency' };
}

/** The client's current stop: when it began, who began it, and when anyone but its admins first stopped it. */
export interface CurrentStop extends StopAuthors {
  at: string;
}

/**
 * When the client's current stop began and who began it, from its kill and revive entries in sequence
 * order: the first kill after the last revive that succeeded. A kill of a client already stopped (the
 * lockdown applied again) or a revive that failed does not start a new stop, though a kill that is not an
 * admin's still marks the stop as the agency's too. Null when none is logged.
 */
export function currentStop(entries: readonly OpsLogEntry[]): CurrentStop | null {
  let stop: CurrentStop | null = null;
  for (const entry of entries) {
    if (entry.action === 'revive' && entry.outcome === 'success') {
      stop = null;
      continue;
    }
    if (entry.action !== 'kill') continue;
    const by = stoppedByOf(entry.actor);
    stop ??= { at: entry.at, by, agencyStoppedAt: null };
    if (by?.kind !== 'client-admin') stop.agencyStoppedAt ??= entry.at;
  }
  return stop;
}


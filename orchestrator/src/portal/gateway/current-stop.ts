import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';
import type { StoppedBy } from '../client-gateway.ts';

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

/**
 * When the client's current stop began and who began it, from its kill and revive entries in sequence
 * order: the first kill after the last revive that succeeded. A kill of a client already stopped (the
 * lockdown applied again) or a revive that failed does not start a new stop. Null when none is logged.
 */
export function currentStop(entries: readonly OpsLogEntry[]): { at: string; by: StoppedBy | null } | null {
  let stop: { at: string; by: StoppedBy | null } | null = null;
  for (const entry of entries) {
    if (entry.action === 'revive' && entry.outcome === 'success') stop = null;
    else if (entry.action === 'kill' && stop === null) stop = { at: entry.at, by: stoppedByOf(entry.actor) };
  }
  return stop;
}

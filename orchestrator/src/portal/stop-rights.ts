import type { StoppedBy } from './client-gateway.ts';

/** Who stopped the agent during its current stop, as far as it decides who may restart it. */
export interface StopAuthors {
  /** Who began the stop; null when not known (an erased actor, nothing logged). */
  by: StoppedBy | null;
  /**
   * The first kill of this stop not made by one of the client's admins (the agency's, an incident's
   * containment, an erased actor's): the stop's own beginning when the agency began it, a later press when
   * it stopped an agent the client had stopped already. Null while every kill of the stop was an admin's.
   */
  agencyStoppedAt: string | null;
}

/**
 * Whether the client's own admins may restart a stop from the portal: only one begun by one of them that
 * nobody else (the agency, an incident's containment) has stopped too. Whatever the agency stopped, only the
 * agency restarts; a stop whose author is not known is not taken for the client's.
 */
export function adminsMayRevive(stop: StopAuthors | null): boolean {
  return stop?.by?.kind === 'client-admin' && stop.agencyStoppedAt === null;
}

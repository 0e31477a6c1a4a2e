import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { IncidentStore } from '../../ports/incident-store.ts';
import { forgetClientRecipients, recipientsOf } from '../incidents/incident-transitions.ts';

/**
 * Forgets who at the client was told of each incident (erasure and purge); the ops log's copies of those
 * names go with the client's ops-log erasure. Returns how many notifications named someone.
 */
export async function forgetIncidentRecipients(store: Pick<IncidentStore, 'list' | 'update'>, clientId: ClientId): Promise<number> {
  let forgotten = 0;
  for (const incident of await store.list()) {
    const named = recipientsOf(incident, clientId);
    if (named === 0) continue;
    await store.update(incident.id, (current) => forgetClientRecipients(current, clientId));
    forgotten += named;
  }
  return forgotten;
}

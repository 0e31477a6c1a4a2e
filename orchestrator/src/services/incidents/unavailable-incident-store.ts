import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { IncidentRecord, IncidentStore } from '../../ports/incident-store.ts';

const unavailable = (): never => {
  throw new FleetError('unavailable', 'incidents are kept in the registry database, and this orchestrator was given no incident store');
};

/**
 * The store of an orchestrator that has none (its registry came from outside without one): no incident
 * has been opened, and opening or changing one fails `unavailable`.
 */
export const unavailableIncidentStore: IncidentStore = {
  create: async () => unavailable(),
  get: async () => null,
  list: async (): Promise<IncidentRecord[]> => [],
  update: async () => unavailable(),
  anyOpened: async () => false,
};

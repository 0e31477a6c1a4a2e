import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { SettingsGateway } from '../settings-gateway.ts';

const unavailable = (): Promise<never> => Promise.reject(new FleetError('unavailable', 'the settings of this client cannot be reached'));

/** For a portal started without a settings gateway (tests of other pages): every settings page says so. */
export const unavailableSettings: SettingsGateway = {
  current: unavailable,
  history: unavailable,
  change: unavailable,
  rollback: unavailable,
  versionConfig: unavailable,
  graduation: unavailable,
  series: unavailable,
  requestNarrowing: unavailable,
};

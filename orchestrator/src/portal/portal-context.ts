import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../ports/clock.ts';
import type { PortalStore } from '../ports/portal-store.ts';
import type { ClientGateway } from './client-gateway.ts';
import type { PortalKeys } from './crypto/portal-keys.ts';
import type { Enrolment } from './identity/enrolment.ts';
import type { Passkeys } from './identity/passkeys.ts';
import type { SessionManager } from './identity/sessions.ts';
import type { TotpFactor } from './identity/totp.ts';
import type { ApprovalLinks } from './approval-links.ts';
import type { SettingsGateway } from './settings-gateway.ts';

/** Everything the portal's routes use, built once by startPortal. */
export interface PortalContext {
  gateway: ClientGateway;
  /** The client's settings and dashboards (settings-gateway.ts). */
  settings: SettingsGateway;
  store: PortalStore;
  sessions: SessionManager;
  passkeys: Passkeys;
  totp: TotpFactor;
  enrolment: Enrolment;
  links: ApprovalLinks;
  keys: PortalKeys;
  clock: Clock;
  logger: Logger;
  /** Counts a credential a route refuses itself: a one-tap link the portal did not sign (fleet_api_auth_failures_total). */
  onAuthRefused?: (() => void) | undefined;
  /** The origin browsers use (known once the listener is bound). */
  publicUrl(): string;
}

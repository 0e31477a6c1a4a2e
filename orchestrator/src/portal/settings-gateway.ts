import type { ClientConfig } from '@agent-fleet/kernel/client-config';

/**
 * The portal's port to the client's settings (kept by its agent as versions) and to the figures its
 * dashboards draw. Like ClientGateway, every method takes the client of the signed-in admin's session,
 * and `by` is always the authenticated admin.
 */

export interface PortalSettingsHead {
  version: number;
  at: string;
  /** "dana@acme.com (client admin)", "alice@ops (operator)". */
  author: string;
  reason: string;
  config: ClientConfig;
  grant: PortalGrant;
}

/** How the stored OAuth grant compares with what the settings need (see services/settings/grant-status.ts). */
export interface PortalGrant {
  provider: string;
  state: 'ok' | 'needs_reconsent' | 'narrowable' | 'unknown';
  missing: string[];
  extra: string[];
  narrowRequested: boolean;
  command: string;
}

export interface PortalSettingsVersion {
  version: number;
  at: string;
  author: string;
  reason: string;
  /** One line per changed field: `blockList: +rival.com`, `rateLimits.perHour: 20 → 40`. */
  changes: string[];
  guardRails: string[];
  rollbackOf: number | null;
}

export interface PortalSettingsChange {
  baseVersion: number;
  document: ClientConfig;
  reason: string;
  /** Guard rails the admin confirmed. */
  confirm: string[];
}

export interface PortalGraduationRow {
  type: string;
  unchanged: number;
  edited: number;
  rejected: number;
  expired: number;
  decisions: number;
  unchangedShare: number | null;
  autoSend: boolean;
  suggest: boolean;
  why: string;
}

export interface PortalDailySeries {
  timezone: string;
  days: string[];
  sent: number[];
  drafted: number[];
  approvalsRequested: number[];
  approvalsDecided: number[];
  denials: Record<string, number[]>;
}

export interface SettingsGateway {
  current(clientId: string): Promise<PortalSettingsHead>;
  /** Newest first. */
  history(clientId: string, limit: number): Promise<PortalSettingsVersion[]>;
  /** A new version; FleetError conflict ("changed by X at T, reload"), invalid_input naming fields. */
  change(clientId: string, change: PortalSettingsChange, by: string): Promise<{ version: number; changed: boolean; grant: PortalGrant }>;
  rollback(clientId: string, input: { toVersion: number; baseVersion: number; reason: string; confirm: string[] }, by: string): Promise<{ version: number; changed: boolean; grant: PortalGrant }>;
  /** The document of one version (for a rollback's confirmation). */
  versionConfig(clientId: string, version: number): Promise<ClientConfig>;
  graduation(clientId: string): Promise<PortalGraduationRow[]>;
  series(clientId: string, days: number): Promise<PortalDailySeries>;
  /** Records that the admin wants the grant narrowed at the next consent (ops see it). */
  requestNarrowing(clientId: string, by: string): Promise<void>;
}

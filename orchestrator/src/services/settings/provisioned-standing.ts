import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { settingsConfigHash } from '@agent-fleet/kernel/settings-version';
import type { OpsLogEntry } from '../../ports/registry.ts';
import type { RecordedAtProvision } from './settings-ops-log.ts';

/** The ops-log action of a provisioning (its `success` entry closes it). */
export const PROVISION_ACTION = 'provision';

/**
 * What a provisioning's `success` entry states about the config it placed: the document's hash (as the
 * agent hashes the version it makes from the file) and the guard rails whose standing it recorded. Pure.
 */
export function provisionedStandingDetails(config: ClientConfig, rails: readonly string[]): { configHash: string; guardRails: string[] } {
  return { configHash: settingsConfigHash(config), guardRails: [...rails] };
}

/**
 * Whether a settings version made from the config file (`configHash`) is the document the client's last
 * provisioning placed (its ops log, oldest first): then that provisioning already recorded the standing of
 * the rails it names. A file version of another document, or one placed before a later provisioning, is
 * not. Pure.
 */
export function recordedAtProvisionOf(entries: readonly Pick<OpsLogEntry, 'action' | 'outcome' | 'details'>[], configHash: string): RecordedAtProvision | undefined {
  const last = entries.filter((entry) => entry.action === PROVISION_ACTION && entry.outcome === 'success').at(-1);
  if (last === undefined || last.details['configHash'] !== configHash) return undefined;
  const { operationId, guardRails } = last.details;
  if (typeof operationId !== 'string' || !Array.isArray(guardRails)) return undefined;
  return { operationId, rails: new Set(guardRails.filter((rail): rail is string => typeof rail === 'string')) };
}

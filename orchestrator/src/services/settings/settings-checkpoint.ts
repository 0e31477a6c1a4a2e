import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import { GENESIS_HASH, type SettingsHead, type SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { Registry } from '../../ports/registry.ts';
import type { ClientSettingsService } from './client-settings.ts';
import { PROVISION_ACTION, recordedAtProvisionOf } from './provisioned-standing.ts';
import { CONFIG_CHANGE_ACTION, CONFIG_CHECKPOINT_ACTION, type VersionSummary } from './settings-ops-log.ts';

export type SettingsCheckpointOutcome = 'saved' | 'unchanged' | 'regressed';

const RESTORE_ACTION = 'restore';

/** The ops-log actions a checkpoint reads (every few minutes per client: not the client's whole log). */
const SETTINGS_HEAD_ACTIONS = [RESTORE_ACTION, CONFIG_CHANGE_ACTION, CONFIG_CHECKPOINT_ACTION] as const;

/**
 * The last settings head the ops log holds for a client (a change made through here, or a checkpoint),
 * and whether a restore of the client's volume came after it (the restored history is the new baseline).
 */
function lastKnownHead(entries: readonly { action: string; outcome: string; details: Record<string, unknown> }[]): { head: SettingsHead | null; restored: boolean } {
  for (const entry of [...entries].reverse()) {
    if (entry.action === RESTORE_ACTION && entry.outcome === 'success') return { head: null, restored: true };
    if ((entry.action !== CONFIG_CHANGE_ACTION && entry.action !== CONFIG_CHECKPOINT_ACTION) || entry.outcome === 'failed') continue;
    const { version, hash } = entry.details;
    if (typeof version === 'number' && typeof hash === 'string') return { head: { version, hash }, restored: false };
  }
  return { head: null, restored: false };
}

/** Whether `versions` (newest first, as the agent lists them) continue the chain from `known`. Pure. */
export function continuesFrom(known: SettingsHead | null, versions: readonly Pick<VersionSummary, 'version' | 'hash' | 'prevHash'>[]): boolean {
  const ascending = [...versions].reverse();
  let previous: SettingsHead = known ?? { version: 0, hash: GENESIS_HASH };
  for (const version of ascending) {
    if (version.version <= previous.version) {
      if (version.version === previous.version && version.hash !== previous.hash) return false;
      continue;
    }
    if (version.version !== previous.version + 1 || version.prevHash !== previous.hash) return false;
    previous = version;
  }
  return true;
}

/**
 * Checkpoints a client's settings head outside its container, like the audit chain head: a head that
 * moved on is taken when its versions continue the chain the ops log last recorded (versions the agent
 * made from the config file are recorded here as changes, registry and flags included); a head behind
 * the recorded one, or a different version under the same number, means the history was rewritten or
 * truncated: logged as an error and recorded once as a failed checkpoint.
 */
export function checkpointSettings(
  deps: { registry: Registry; settings: ClientSettingsService; logger: Logger },
  clientId: ClientId,
): Promise<SettingsCheckpointOutcome> {
  return deps.settings.exclusive(clientId, () => checkpointNow(deps, clientId));
}

/** checkpointSettings for a caller that already holds the client's settings lock (`settings.exclusive`). */
export async function checkpointNow(deps: { registry: Registry; settings: ClientSettingsService; logger: Logger }, clientId: ClientId): Promise<SettingsCheckpointOutcome> {
  const { registry, settings, logger } = deps;
  const head = await settings.call<SettingsHead>(clientId, 'GET', '/v1/settings/head');
  const entries = await registry.listOpsLog({ clientId, actions: SETTINGS_HEAD_ACTIONS });
  const { head: known, restored } = lastKnownHead(entries);
  if (known !== null && known.version === head.version && known.hash === head.hash) return 'unchanged';
  if (restored) {
    // A restored volume brings its own history: its head is recorded as the new baseline.
    const full = await settings.version(clientId, head.version);
    const previous = head.version > 1 ? (await settings.version(clientId, head.version - 1)).config : full.config;
    await settings.record(clientId, { actor: 'system', via: 'restore' }, full, previous, full.config, CONFIG_CHECKPOINT_ACTION);
    return 'saved';
  }
  // The known version is listed too (unless the head is behind it): a rewrite under the same number shows.
  const versions = head.version >= (known?.version ?? 0) ? await settings.history(clientId, head.version - (known?.version ?? 0) + 1) : [];
  if (head.version < (known?.version ?? 0) || !continuesFrom(known, versions)) {
    const last = entries.at(-1);
    if (!(last?.action === CONFIG_CHECKPOINT_ACTION && last.outcome === 'failed' && last.details['hash'] === head.hash)) {
      logger.error('settings history moved backwards or was rewritten', { client: clientId, version: head.version, known: known?.version ?? null });
      await registry.appendOpsLog({
        actor: 'system',
        action: CONFIG_CHECKPOINT_ACTION,
        clientId,
        reason: 'the settings history was rewritten or truncated',
        outcome: 'failed',
        details: { version: head.version, hash: head.hash, knownVersion: known?.version ?? null, knownHash: known?.hash ?? null },
      });
    }
    return 'regressed';
  }
  // Versions made at the agent itself (the config file at start) are recorded here one by one.
  const unrecorded = [...versions].reverse().filter((candidate) => candidate.version > (known?.version ?? 0));
  const provisions = unrecorded.some((version) => version.source === 'file') ? await registry.listOpsLog({ clientId, actions: [PROVISION_ACTION] }) : [];
  for (const version of unrecorded) {
    const full: SettingsVersion = await settings.version(clientId, version.version);
    const previous = version.version > 1 ? (await settings.version(clientId, version.version - 1)).config : full.config;
    const placed = version.source === 'file' ? recordedAtProvisionOf(provisions, full.configHash) : undefined;
    await settings.record(clientId, { actor: 'system', via: 'checkpoint' }, version, previous, full.config, CONFIG_CHECKPOINT_ACTION, placed);
  }
  return 'saved';
}

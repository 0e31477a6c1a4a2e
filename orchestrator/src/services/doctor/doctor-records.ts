import { HUMAN_ITEMS, type HumanItemId, type ItemOutcome } from '../../domain/onboarding-checklist.ts';
import type { RailConfirmation, RailConfirmations } from '../../domain/onboarding-config-checks.ts';
import type { OpsLogEntry } from '../../ports/registry.ts';
import { FREE_TEXT_OPT_IN_ACTION } from '../free-text-opt-ins.ts';
import { CONFIG_CHANGE_ACTION, CONFIG_CHECKPOINT_ACTION, GUARD_RAIL_ACTION } from '../settings/settings-ops-log.ts';

/**
 * What the doctor records lives in the hash-chained ops log, like support grants: a person's attestation
 * of a human item, and a passed sandbox round. Their whole history is as tamper-evident as any admin action.
 */
export const ONBOARDING_ACTIONS = {
  attest: 'onboarding-attest',
  sandbox: 'onboarding-sandbox',
} as const;

export interface Attestation {
  item: HumanItemId;
  by: string;
  at: string;
  note: string;
  notApplicable: boolean;
  /** Its place in the ops log, to tell what happened after it. */
  seq: number;
}

/** The latest attestation of each human item of one client (its ops log entries, oldest first). */
export function foldAttestations(entries: readonly OpsLogEntry[]): Map<HumanItemId, Attestation> {
  const latest = new Map<HumanItemId, Attestation>();
  for (const entry of entries) {
    const item = entry.details['item'];
    if (
      entry.action !== ONBOARDING_ACTIONS.attest ||
      entry.outcome !== 'success' ||
      !HUMAN_ITEMS.includes(item as HumanItemId)
    )
      continue;
    latest.set(item as HumanItemId, {
      item: item as HumanItemId,
      by: entry.actor,
      at: entry.at,
      note: entry.reason ?? '',
      notApplicable: entry.details['notApplicable'] === true,
      seq: entry.seq,
    });
  }
  return latest;
}

/** Human items that attest to the settings as they were: a later change of them leaves the item to attest again. */
const ATTESTS_SETTINGS: ReadonlySet<HumanItemId> = new Set(['configuration-documented']);
const SETTINGS_CHANGES: ReadonlySet<string> = new Set([CONFIG_CHANGE_ACTION, CONFIG_CHECKPOINT_ACTION]);

/**
 * A human item's outcome: attested (with who, when and the note), or pending with how to attest it. An
 * attestation of the settings (their documentation) is pending again once a settings version came after it.
 */
export function attestedOutcome(
  clientId: string,
  item: HumanItemId,
  attestation: Attestation | undefined,
  entries: readonly OpsLogEntry[] = [],
): ItemOutcome {
  const changed =
    attestation === undefined || !ATTESTS_SETTINGS.has(item)
      ? undefined
      : entries.filter((entry) => entry.seq > attestation.seq && SETTINGS_CHANGES.has(entry.action)).at(-1);
  if (attestation !== undefined && changed !== undefined) {
    const version = changed.details['version'];
    return {
      status: 'pending',
      evidence: [
        `attested by ${attestation.by} at ${attestation.at}, but the settings changed since (${typeof version === 'number' ? `version ${version}, ` : ''}by ${changed.actor} at ${changed.at}): document the change, then fleet doctor ${clientId} --attest ${item} --note "…"`,
      ],
    };
  }
  if (attestation === undefined) {
    return {
      status: 'pending',
      evidence: [
        `not attested: fleet doctor ${clientId} --attest ${item} --note "…"${item === 'dpa' ? ' (or --not-applicable for a client without EU data subjects)' : ''}`,
      ],
    };
  }
  const what = attestation.notApplicable ? 'not applicable, attested' : 'attested';
  return {
    status: 'pass',
    evidence: [`${what} by ${attestation.by} at ${attestation.at}: ${attestation.note}`],
  };
}

/** The last passed sandbox round of one client, as recorded by `fleet doctor <client> --sandbox`. */
export function lastSandboxPass(entries: readonly OpsLogEntry[]): OpsLogEntry | undefined {
  return entries
    .filter((entry) => entry.action === ONBOARDING_ACTIONS.sandbox && entry.outcome === 'success')
    .at(-1);
}

/**
 * The confirmations of departures from the safe defaults on record for one client (its ops log, oldest
 * first): a guard rail counts when its last crossing was confirmed by the person who made the change (a
 * later crossing made by editing the agent's config file, or not reported by the agent, voids it); a
 * free-text opt-in recorded at provisioning counts with the person the config names as accepting it.
 */
export function foldRailConfirmations(entries: readonly OpsLogEntry[]): RailConfirmations {
  const latest = new Map<string, RailConfirmation | undefined>();
  /** The settings version each rail's last crossing record was made for (absent at provisioning). */
  const recordedFor = new Map<string, unknown>();
  for (const entry of entries) {
    if (entry.action === GUARD_RAIL_ACTION && typeof entry.details['rail'] === 'string') {
      latest.set(entry.details['rail'], entry.outcome === 'confirmed' ? { by: confirmedBy(entry), at: entry.at } : undefined);
      recordedFor.set(entry.details['rail'], entry.details['version']);
    } else if (entry.action === FREE_TEXT_OPT_IN_ACTION && typeof entry.details['type'] === 'string') {
      const rail = `freeText.${entry.details['type']}`;
      const version = entry.details['version'];
      // A settings change records the rail's crossing first, for its version: that record (confirmed or not)
      // decides. An opt-in of a provisioning, or of a change no crossing record names, stands for itself.
      if (version !== undefined && latest.has(rail) && recordedFor.get(rail) === version) continue;
      const acceptedBy = entry.details['acceptedBy'];
      latest.set(rail, {
        by: typeof acceptedBy === 'string' && acceptedBy !== '' ? `${acceptedBy} (recorded by ${entry.actor})` : entry.actor,
        at: entry.at,
      });
      recordedFor.set(rail, version);
    }
  }
  return (railId) => latest.get(railId);
}

/**
 * Who confirmed a crossing: the entry's actor, or, for a change the settings checkpoint recorded (actor
 * `system`), the change's author as the version names it.
 */
function confirmedBy(entry: OpsLogEntry): string {
  const author = entry.details['author'];
  return entry.actor === 'system' && typeof author === 'string' && author !== '' ? `${author} (recorded by system)` : entry.actor;
}

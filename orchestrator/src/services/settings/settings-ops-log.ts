import { FREE_TEXT_AUTO_SEND_RISK, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { describeChange } from '@agent-fleet/kernel/settings-diff';
import { crossedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import { describeAuthor, type SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { NewOpsLogEntry } from '../../ports/registry.ts';
import { FREE_TEXT_OPT_IN_ACTION } from '../free-text-opt-ins.ts';

/** The ops-log action of a new settings version, and of a head taken by the checkpoint. */
export const CONFIG_CHANGE_ACTION = 'config-change';
export const CONFIG_CHECKPOINT_ACTION = 'config-checkpoint';
/** One entry per guard rail a version crossed: the flag ops see. */
export const GUARD_RAIL_ACTION = 'settings-guard-rail';

const MAX_LINES = 50;
/** Guard-rail flags per version, at most: more than every rail there is; the rest is counted, not logged. */
const MAX_GUARD_RAILS = 50;
/** A rail id the agent reports, at most (the longest real one is a few dozen characters). */
const MAX_RAIL_ID = 100;

/**
 * The rails a version crossed, each once: the ones the agent reports (its reply is untrusted: only strings,
 * cut to length), then the ones the orchestrator finds crossed between the two documents and the agent left
 * out. At most `MAX_GUARD_RAILS`: each is an ops-log append of its own, so an agent's list must not decide
 * how many there are.
 */
function guardRailsOf(reported: unknown, crossed: readonly string[]): { rails: string[]; unreported: Set<string>; dropped: number } {
  const fromAgent = new Set(Array.isArray(reported) ? reported.filter((rail): rail is string => typeof rail === 'string').map((rail) => rail.slice(0, MAX_RAIL_ID)) : []);
  const unreported = new Set(crossed.filter((rail) => !fromAgent.has(rail)));
  // The orchestrator's own findings first when cutting: an agent cannot crowd them out with made-up ids.
  const all = [...unreported, ...fromAgent];
  const kept = new Set(all.slice(0, MAX_GUARD_RAILS));
  return { rails: [...fromAgent, ...unreported].filter((rail) => kept.has(rail)), unreported, dropped: all.length - kept.size };
}

/**
 * How a guard rail's crossing is recorded: confirmed by the actor (`confirmed`, what the doctor reads as an
 * accepted departure), or not (made by editing the config file, not reported by the agent). One form for
 * every way a rail is crossed (a settings version, a provisioning), so the doctor reads them alike. Pure.
 */
export function guardRailEntry(input: {
  actor: string;
  clientId: string;
  /** The rail's id (`permissions.mail.send`). */
  rail: string;
  /** The risk accepted, in plain words. */
  risk: string;
  /** `not-confirmed`: crossed by a provisioned config nobody confirmed (it voids an older confirmation of the rail). */
  outcome: 'confirmed' | 'not-reported-by-agent' | 'made-by-config-file' | 'not-confirmed';
  /** What made the crossing (a version, a provisioning operation). */
  details: Record<string, unknown>;
}): NewOpsLogEntry {
  return {
    actor: input.actor,
    action: GUARD_RAIL_ACTION,
    clientId: input.clientId,
    reason: input.risk,
    outcome: input.outcome,
    details: { rail: input.rail, ...input.details },
  };
}

/** A version as the agent reports it (history leaves the document out). */
export type VersionSummary = Omit<SettingsVersion, 'config'>;

/**
 * The provisioning that placed a version's document as the agent's config file, and the rails whose
 * standing it recorded (confirmed with `fleet provision --confirm`, not confirmed, or opted in by name).
 */
export interface RecordedAtProvision {
  operationId: string;
  rails: ReadonlySet<string>;
}

/**
 * The ops-log entries of a new settings version: the change (who, why, which fields, version and hash),
 * one flag per guard rail it crossed (with the risk confirmed), and a free-text opt-in entry per type
 * newly opted in. A version that is the document a provisioning placed gets no flag for a rail that
 * provisioning recorded: it is the same crossing, and a second record of it (made by the config file)
 * would void the confirmation given with it. Pure.
 */
export function settingsChangeEntries(input: {
  actor: string;
  clientId: string;
  version: VersionSummary;
  previous: ClientConfig;
  next: ClientConfig;
  via: string;
  action?: string;
  recordedAtProvision?: RecordedAtProvision | undefined;
}): NewOpsLogEntry[] {
  const { actor, clientId, version, previous, next } = input;
  const lines = version.changes.slice(0, MAX_LINES).map((change) => describeChange(change));
  const risks = new Map(crossedGuardRails(previous, next, new Date(version.at)).map((rail) => [rail.id, rail.risk]));
  const guardRails = guardRailsOf(version.guardRails, [...risks.keys()]);
  const provisioned = input.recordedAtProvision;
  const flagged = guardRails.rails.filter((rail) => provisioned?.rails.has(rail) !== true);
  const entries: NewOpsLogEntry[] = [
    {
      actor,
      action: input.action ?? CONFIG_CHANGE_ACTION,
      clientId,
      reason: version.reason,
      outcome: 'success',
      details: {
        version: version.version,
        hash: version.hash,
        author: describeAuthor(version.author),
        via: input.via,
        fields: [...new Set(version.changes.map((change) => change.path))].slice(0, MAX_LINES),
        changes: lines.slice(0, MAX_LINES),
        guardRails: guardRails.rails,
        ...(guardRails.dropped > 0 ? { guardRailsLeftOut: guardRails.dropped } : {}),
        rollbackOf: version.rollbackOf,
        ...(flagged.length < guardRails.rails.length && provisioned !== undefined ? { guardRailsRecordedAtProvision: provisioned.operationId } : {}),
      },
    },
  ];
  for (const rail of flagged) {
    entries.push(
      guardRailEntry({
        actor,
        clientId,
        rail,
        risk: risks.get(rail) ?? rail,
        outcome: guardRails.unreported.has(rail) ? 'not-reported-by-agent' : version.source === 'api' ? 'confirmed' : 'made-by-config-file',
        details: { version: version.version, author: describeAuthor(version.author) },
      }),
    );
  }
  const before = new Set(previous.autoReply.freeTextAutoSend.map((entry) => entry.type));
  for (const entry of next.autoReply.freeTextAutoSend.filter((candidate) => !before.has(candidate.type))) {
    entries.push({
      actor,
      action: FREE_TEXT_OPT_IN_ACTION,
      clientId,
      reason: FREE_TEXT_AUTO_SEND_RISK,
      outcome: 'recorded',
      details: { type: entry.type, acceptedBy: entry.acceptedBy, acceptedAt: entry.acceptedAt, version: version.version },
    });
  }
  return entries;
}

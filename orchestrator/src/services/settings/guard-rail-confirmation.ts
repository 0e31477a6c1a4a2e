import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { guardRailIds, ONBOARDING_ENDED_EARLY, type GuardRail } from '@agent-fleet/kernel/settings-guard-rails';
import { checkDraftReviewSend, departuresFromSafeDefaults, type OnboardingDates, type RailConfirmation } from '../../domain/onboarding-config-checks.ts';
import type { Clock } from '../../ports/clock.ts';
import type { OpsLogEntry, Registry } from '../../ports/registry.ts';
import { foldRailConfirmations } from '../doctor/doctor-records.ts';
import { FREE_TEXT_OPT_IN_ACTION } from '../free-text-opt-ins.ts';
import type { ClientSettingsService } from './client-settings.ts';
import { checkpointNow } from './settings-checkpoint.ts';
import { CONFIG_CHANGE_ACTION, CONFIG_CHECKPOINT_ACTION, GUARD_RAIL_ACTION, guardRailEntry } from './settings-ops-log.ts';

export interface GuardRailConfirmInput {
  /** Untrusted: the client. */
  clientId: unknown;
  /** Untrusted: the rail's id (`permissions.mail.send`). */
  rail: unknown;
  /** Why it is accepted (recorded with the confirmation); optional. */
  reason?: string | undefined;
  /** Who confirms: the signed-in operator, as every settings change records it. */
  actor: string;
  via: 'cli' | 'api';
}

export interface GuardRailConfirmOutcome {
  clientId: ClientId;
  rail: string;
  field: string;
  risk: string;
  /** `already-confirmed`: a confirmation of it stands; nothing was recorded. */
  outcome: 'confirmed' | 'already-confirmed';
  /** The confirmation that stands now: who, and when. */
  confirmation: RailConfirmation;
  /** The settings version it was confirmed against. */
  version: number;
}

export interface GuardRailConfirmDependencies {
  registry: Registry;
  settings: ClientSettingsService;
  clock: Clock;
  logger: Logger;
}

/**
 * The rails the settings stand beyond, as the doctor measures them: the departures from the safe defaults,
 * with the early end of draft-review-send judged on the client's own dates (the kernel's measure of it
 * compares with a window starting now, which any started window ends before). Pure.
 */
export function standingGuardRails(config: ClientConfig, dates: OnboardingDates, now: Date): GuardRail[] {
  const departures = departuresFromSafeDefaults(config, now).filter((rail) => rail.id !== ONBOARDING_ENDED_EARLY.id);
  const endsEarly = checkDraftReviewSend(config, dates, now).status === 'fail';
  return endsEarly ? [ONBOARDING_ENDED_EARLY, ...departures] : departures;
}

/** The rail asked for, if it is one: an id no change can cross is refused with the ones there are. */
function knownRail(rail: unknown): string {
  const known = guardRailIds();
  if (typeof rail !== 'string' || !known.includes(rail)) {
    const shown = typeof rail === 'string' ? JSON.stringify(rail.slice(0, 100)) : 'that';
    throw new FleetError('invalid_input', `${shown} is not a guard rail; the guard rails are: ${known.join(', ')}`);
  }
  return rail;
}

type Refusal = { kind: 'already-confirmed'; confirmation: RailConfirmation } | { kind: 'settings-moved' };

/** The head the ops log last recorded for the client (a change or a checkpoint), as `version:hash`. */
function recordedHead(entries: readonly OpsLogEntry[]): string | null {
  const last = entries.filter((entry) => (entry.action === CONFIG_CHANGE_ACTION || entry.action === CONFIG_CHECKPOINT_ACTION) && entry.outcome !== 'failed').at(-1);
  return last === undefined ? null : `${String(last.details['version'])}:${String(last.details['hash'])}`;
}

/**
 * `fleet config confirm <client> <rail>`: records that the operator accepts a departure the client's
 * current settings already stand on (one made by a config file, or at a provisioning nobody confirmed), as
 * a settings change confirming it would, so the doctor counts it. The ops log is first brought up to the
 * agent's head (a version recorded after the confirmation would void it); a rail the settings do not cross
 * is refused, and one whose confirmation stands is not recorded again. The append itself is refused if the
 * settings moved on, or someone confirmed it, since they were read.
 */
export async function confirmGuardRail(deps: GuardRailConfirmDependencies, input: GuardRailConfirmInput): Promise<GuardRailConfirmOutcome> {
  const clientId = parseClientId(input.clientId);
  const railId = knownRail(input.rail);
  const record = await deps.registry.getClient(clientId);
  if (record === null) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
  return deps.settings.exclusive(clientId, async () => {
    if ((await checkpointNow(deps, clientId)) === 'regressed') {
      throw new FleetError('integrity', `the settings history of ${clientId} was rewritten or truncated; nothing was confirmed (see the ops log's failed config-checkpoint)`);
    }
    const { version } = await deps.settings.show(clientId);
    const crossed = standingGuardRails(version.config, record, deps.clock.now());
    const rail = crossed.find((candidate) => candidate.id === railId);
    if (rail === undefined) {
      const crossing = crossed.length === 0 ? 'they cross none' : `they cross ${crossed.map((candidate) => candidate.id).join(', ')}`;
      throw new FleetError('invalid_input', `the settings of ${clientId} (version ${version.version}) do not cross ${railId}; nothing was recorded (${crossing})`);
    }
    const head = `${version.version}:${version.hash}`;
    const note = input.reason?.trim();
    const appended = await deps.registry.appendOpsLogIf<Refusal>(
      guardRailEntry({
        actor: input.actor,
        clientId,
        rail: rail.id,
        risk: rail.risk,
        outcome: 'confirmed',
        details: { field: rail.field, via: input.via, version: version.version, configHash: version.configHash, ...(note ? { note } : {}) },
      }),
      {
        reads: [{ clientId, actions: [GUARD_RAIL_ACTION, FREE_TEXT_OPT_IN_ACTION, CONFIG_CHANGE_ACTION, CONFIG_CHECKPOINT_ACTION] }],
        refusal: ([entries = []]) => {
          if (recordedHead(entries) !== head) return { kind: 'settings-moved' };
          const standing = foldRailConfirmations(entries)(rail.id);
          return standing === undefined ? null : { kind: 'already-confirmed', confirmation: standing };
        },
      },
    );
    const outcome = { clientId, rail: rail.id, field: rail.field, risk: rail.risk, version: version.version };
    if (appended.outcome === 'appended') {
      deps.logger.info('guard rail confirmed', { client: clientId, rail: rail.id, version: version.version });
      return { ...outcome, outcome: 'confirmed', confirmation: { by: appended.entry.actor, at: appended.entry.at } };
    }
    if (appended.refusal.kind === 'already-confirmed') return { ...outcome, outcome: 'already-confirmed', confirmation: appended.refusal.confirmation };
    throw new FleetError('conflict', `the settings of ${clientId} changed while ${railId} was being confirmed; nothing was recorded, run it again`, { retryable: true });
  });
}

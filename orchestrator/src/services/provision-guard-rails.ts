import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { GuardRail } from '@agent-fleet/kernel/settings-guard-rails';
import { departuresFromSafeDefaults } from '../domain/onboarding-config-checks.ts';
import type { Registry } from '../ports/registry.ts';
import { guardRailEntry } from './settings/settings-ops-log.ts';

/** A guard rail's id as the kernel names them: dotted words (`permissions.mail.send`, `approval.new_contact`). */
export const GUARD_RAIL_ID = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*){0,3}$/;
/** The longest rail id accepted (the longest real one is a few dozen characters). */
export const MAX_GUARD_RAIL_ID = 100;
/** Confirmations per request, at most: more than every rail there is. */
export const MAX_GUARD_RAIL_CONFIRMATIONS = 50;

/** The rails a provisioned config stands beyond the safe defaults on: the ones confirmed, and the rest. */
export interface ProvisionGuardRails {
  confirmed: GuardRail[];
  /** Crossed and confirmed by no one: the doctor fails the items that answer for them. */
  unconfirmed: GuardRail[];
  /** Free-text opt-ins the config names who accepted (recorded as opt-ins, not confirmed here). */
  accepted: GuardRail[];
}

/** What the provisioning result tells of them (ids, fields and risks only). */
export interface ProvisionGuardRailsView {
  confirmed: string[];
  unconfirmed: Array<Pick<GuardRail, 'id' | 'field' | 'risk'>>;
}

/** The request's confirmations (untrusted): a list of rail ids, each once. */
function confirmationsOf(confirm: unknown): string[] {
  if (confirm === undefined) return [];
  if (!Array.isArray(confirm) || confirm.length > MAX_GUARD_RAIL_CONFIRMATIONS) {
    throw new FleetError('invalid_input', `confirm must be a list of at most ${MAX_GUARD_RAIL_CONFIRMATIONS} guard-rail ids`);
  }
  for (const rail of confirm) {
    if (typeof rail !== 'string' || rail.length > MAX_GUARD_RAIL_ID || !GUARD_RAIL_ID.test(rail)) {
      throw new FleetError('invalid_input', `confirm: ${JSON.stringify(typeof rail === 'string' ? rail.slice(0, MAX_GUARD_RAIL_ID) : rail)} is not a guard-rail id (such as permissions.mail.send)`);
    }
  }
  return [...new Set(confirm as string[])];
}

/**
 * The guard rails `config` crosses from the safe defaults (as the doctor measures them), split by the
 * request's confirmations. `onboardingStartedAt` is the start the registry records: a config that leaves
 * it out starts its draft-review-send window at provisioning, so a short window ends early all the same.
 * A confirmation naming a rail the config does not cross is refused before anything is done: a mistyped id
 * would otherwise confirm nothing while the operator believes it did. Pure.
 */
export function provisionGuardRails(config: ClientConfig, onboardingStartedAt: string, confirm: unknown, now: Date): ProvisionGuardRails {
  const named = confirmationsOf(confirm);
  const started = { ...config, onboarding: { ...config.onboarding, startedAt: config.onboarding.startedAt ?? onboardingStartedAt } };
  const crossed = departuresFromSafeDefaults(started, now);
  const ids = new Set(crossed.map((rail) => rail.id));
  const strays = named.filter((rail) => !ids.has(rail));
  if (strays.length > 0) {
    const crossing = crossed.length === 0 ? 'it crosses none' : `it crosses ${crossed.map((rail) => rail.id).join(', ')}`;
    throw new FleetError('invalid_input', `the config of ${config.client} does not cross ${strays.join(', ')}; nothing was provisioned (${crossing})`);
  }
  const confirmed = new Set(named);
  // A free-text opt-in names who accepted its risk; provisioning records it, and the doctor counts it.
  const accepted = new Set(config.autoReply.freeTextAutoSend.map((entry) => `freeText.${entry.type}`));
  return {
    confirmed: crossed.filter((rail) => confirmed.has(rail.id)),
    unconfirmed: crossed.filter((rail) => !confirmed.has(rail.id) && !accepted.has(rail.id)),
    accepted: crossed.filter((rail) => !confirmed.has(rail.id) && accepted.has(rail.id)),
  };
}

/** The rails as the provisioning result shows them. Pure. */
export function provisionGuardRailsView(rails: ProvisionGuardRails): ProvisionGuardRailsView {
  return {
    confirmed: rails.confirmed.map((rail) => rail.id),
    unconfirmed: rails.unconfirmed.map(({ id, field, risk }) => ({ id, field, risk })),
  };
}

/** Every rail whose standing a provisioning records (confirmed, not confirmed, opted in by name). Pure. */
export function provisionedRailIds(rails: ProvisionGuardRails): string[] {
  return [...rails.confirmed, ...rails.unconfirmed, ...rails.accepted].map((rail) => rail.id);
}

/**
 * Records the standing of each rail the provisioned config crosses, as `fleet config set` records a
 * crossing (once the client is provisioned): confirmed by the actor, or not confirmed. A rail not confirmed
 * is recorded too: a confirmation on record from before (an earlier config, or a client closed earlier
 * under the same id) was given for another document and must not count for this one.
 */
export async function recordProvisionConfirmations(
  registry: Pick<Registry, 'appendOpsLog'>,
  input: { actor: string; clientId: string; operationId: string; configHash: string; rails: Pick<ProvisionGuardRails, 'confirmed' | 'unconfirmed'> },
): Promise<void> {
  const standings = [
    ...input.rails.confirmed.map((rail) => ({ rail, outcome: 'confirmed' as const })),
    ...input.rails.unconfirmed.map((rail) => ({ rail, outcome: 'not-confirmed' as const })),
  ];
  for (const { rail, outcome } of standings) {
    await registry.appendOpsLog(
      guardRailEntry({
        actor: input.actor,
        clientId: input.clientId,
        rail: rail.id,
        risk: rail.risk,
        outcome,
        details: { field: rail.field, via: 'provision', operationId: input.operationId, configHash: input.configHash },
      }),
    );
  }
}

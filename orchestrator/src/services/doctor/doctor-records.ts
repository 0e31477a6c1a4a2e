import { HUMAN_ITEMS, type HumanItemId, type ItemOutcome } from '../../domain/onboarding-checklist.ts';
import type { OpsLogEntry } from '../../ports/registry.ts';

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
    });
  }
  return latest;
}

/** A human item's outcome: attested (with who, when and the note), or pending with how to attest it. */
export function attestedOutcome(
  clientId: string,
  item: HumanItemId,
  attestation: Attestation | undefined,
): ItemOutcome {
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

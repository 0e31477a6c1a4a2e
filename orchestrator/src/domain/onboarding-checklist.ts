import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The spec's Client Onboarding Security Checklist ("use this checklist for every new client setup"), one
 * entry per line of it. Machine items are checked against the live system by `fleet doctor`; human items
 * are attested by a signed-in team member (`fleet doctor <client> --attest <item> --note …`). Every item
 * is required before a client is considered onboarded.
 */
export const ONBOARDING_ITEMS = [
  {
    id: 'isolated-instance',
    kind: 'machine',
    title: 'Isolated instance: hardened container on its own network',
  },
  { id: 'oauth-scopes', kind: 'machine', title: 'OAuth2 mail access with the minimum scopes' },
  { id: 'draft-review-send', kind: 'machine', title: 'Draft-review-send for weeks 1-4' },
  { id: 'rate-limits', kind: 'machine', title: 'Rate limits set' },
  {
    id: 'audit-logging',
    kind: 'machine',
    title: 'Audit log recording, its chain verified against the checkpoint',
  },
  { id: 'client-admin', kind: 'machine', title: 'Client admin enrolled, with kill-switch access' },
  { id: 'data-handling-reviewed', kind: 'human', title: "Client's data handling requirements reviewed" },
  { id: 'dpa', kind: 'human', title: 'Data Processing Agreement signed (EU clients)' },
  { id: 'sandbox-round', kind: 'machine', title: 'Sandbox round passed before going live' },
  { id: 'configuration-documented', kind: 'human', title: 'Client-specific configuration documented' },
  { id: 'week1-review-call', kind: 'human', title: 'Week-1 review call scheduled' },
  {
    id: 'encryption-at-rest',
    kind: 'machine',
    title: 'Encryption at rest: no plaintext client data in the volume',
  },
  {
    id: 'client-understands-controls',
    kind: 'human',
    title: 'Client understands the approval workflow and the kill switch',
  },
  { id: 'anomaly-alerts', kind: 'machine', title: 'Anomaly detection alerts live' },
] as const;

export type OnboardingItemId = (typeof ONBOARDING_ITEMS)[number]['id'];
export type HumanItemId = Extract<(typeof ONBOARDING_ITEMS)[number], { kind: 'human' }>['id'];

/** pass: checked and holds; fail: checked and does not; pending: not done yet, or not checkable here. */
export type ItemStatus = 'pass' | 'fail' | 'pending';

export interface ItemOutcome {
  status: ItemStatus;
  /** What was seen: one line each, no client content. */
  evidence: string[];
}

export interface ChecklistItem extends ItemOutcome {
  id: OnboardingItemId;
  title: string;
  kind: 'machine' | 'human';
  required: true;
}

export interface OnboardingReport {
  clientId: string;
  checkedAt: string;
  checkedBy: string;
  items: ChecklistItem[];
  /** Required items not passed (the alert's and the exit status's measure), and all items not passed. */
  open: { required: number; total: number };
}

/** The items that only people can confirm; `dpa` may be attested as not applicable (no EU data subjects). */
export const HUMAN_ITEMS: readonly HumanItemId[] = ONBOARDING_ITEMS.filter(
  (item) => item.kind === 'human',
).map((item) => item.id as HumanItemId);

export function parseHumanItem(raw: unknown): HumanItemId {
  const found = HUMAN_ITEMS.find((id) => id === raw);
  if (found === undefined) {
    const machine = ONBOARDING_ITEMS.some((item) => item.id === raw);
    throw new FleetError(
      'invalid_input',
      machine
        ? `${String(raw)} is checked by the doctor against the live system, not attested`
        : `unknown checklist item ${JSON.stringify(raw)}; a person attests ${HUMAN_ITEMS.join(', ')}`,
    );
  }
  return found;
}

/** The report of one run, items in the checklist's order; an item without an outcome is pending. */
export function onboardingReport(
  clientId: string,
  checkedAt: Date,
  checkedBy: string,
  outcomes: Partial<Record<OnboardingItemId, ItemOutcome>>,
): OnboardingReport {
  const items: ChecklistItem[] = ONBOARDING_ITEMS.map((item) => ({
    id: item.id,
    title: item.title,
    kind: item.kind,
    required: true,
    ...(outcomes[item.id] ?? { status: 'pending' as const, evidence: ['not checked'] }),
  }));
  const open = items.filter((item) => item.status !== 'pass');
  return {
    clientId,
    checkedAt: checkedAt.toISOString(),
    checkedBy,
    items,
    open: { required: open.filter((item) => item.required).length, total: open.length },
  };
}

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

/**
 * What a run says as a whole, for whoever acts on it (on call, a script): complete (every required item
 * passed); failed (a required item was checked and does not hold: a control to put right); pending (none
 * failed, but required items are not done yet: to attest, to connect, or not checked yet: run it again).
 */
export type ChecklistVerdict = 'complete' | 'failed' | 'pending';

export function checklistVerdict(report: Pick<OnboardingReport, 'items'>): ChecklistVerdict {
  const required = report.items.filter((item) => item.required);
  if (required.some((item) => item.status === 'fail')) return 'failed';
  return required.every((item) => item.status === 'pass') ? 'complete' : 'pending';
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

/**
 * What to run for a machine item that is not done, for whoever reads the report (on call, at night): the
 * evidence says what is wrong, this line the command that puts it right. A human item's is its attestation,
 * unless its evidence already names it.
 */
const MACHINE_REMEDIES: Partial<Record<OnboardingItemId, (clientId: string) => string>> = {
  'isolated-instance': (id) =>
    `fix: fleet provision ${id} recreates the agent with the fleet's hardening (a killed client: fleet revive ${id})`,
  'oauth-scopes': (id) =>
    `fix: fleet connect ${id} --provider <gmail|outlook> --oauth-client-id <id> grants the settings' scopes again; a permission beyond the defaults needs fleet config set ${id} <file> --reason "…" --confirm permissions.<capability>`,
  'draft-review-send': (id) =>
    `fix: fleet config show ${id}, then fleet config set ${id} <file> --reason "…" (onboarding.days of 28 or more, from the client's first day; a departure from the safe defaults with --confirm <rail>)`,
  'rate-limits': (id) =>
    `fix: fleet config show ${id}, then fleet config set ${id} <file> --reason "…" with the spec's 20/100, or a higher limit with --confirm rateLimits.perHour / rateLimits.perDay`,
  'audit-logging': (id) =>
    `fix: fleet audit verify ${id} (after a restore from an older backup: fleet audit reanchor ${id} --reason "…"; a broken chain: fleet incident open --severity high --summary "…" --client ${id})`,
  'client-admin': (id) => `fix: fleet portal invite ${id} --email <admin>`,
  'sandbox-round': (id) =>
    `fix: run the agent in dry run against the mail emulator, then fleet doctor ${id} --sandbox --emulator <url>`,
  'encryption-at-rest': (id) =>
    `fix: plaintext in the volume is an incident: fleet incident open --severity high --summary "…" --client ${id}; with nothing to look for: fleet doctor ${id} --marker <canary>`,
  'anomaly-alerts': (id) =>
    `fix: load deploy/prometheus/rules into the fleet's Prometheus (FLEET_PROMETHEUS_URL) and check the target of ${id} (fleet status ${id}); fleet service status shows the alerting pipeline`,
};

/** The report of one run, items in the checklist's order; an item without an outcome is pending. */
export function onboardingReport(
  clientId: string,
  checkedAt: Date,
  checkedBy: string,
  outcomes: Partial<Record<OnboardingItemId, ItemOutcome>>,
): OnboardingReport {
  const items: ChecklistItem[] = ONBOARDING_ITEMS.map((item) => {
    const outcome = outcomes[item.id] ?? { status: 'pending' as const, evidence: ['not checked'] };
    const remedy =
      item.kind === 'machine'
        ? MACHINE_REMEDIES[item.id]?.(clientId)
        : `fix: fleet doctor ${clientId} --attest ${item.id} --note "…"`;
    const said = (line: string) => line === remedy || (item.kind === 'human' && line.includes(`--attest ${item.id}`));
    const evidence =
      outcome.status === 'pass' || remedy === undefined || outcome.evidence.some(said)
        ? outcome.evidence
        : [...outcome.evidence, remedy];
    return { id: item.id, title: item.title, kind: item.kind, required: true, status: outcome.status, evidence };
  });
  const open = items.filter((item) => item.status !== 'pass');
  return {
    clientId,
    checkedAt: checkedAt.toISOString(),
    checkedBy,
    items,
    open: { required: open.filter((item) => item.required).length, total: open.length },
  };
}

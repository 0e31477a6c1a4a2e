import {
  checklistVerdict,
  type ChecklistItem,
  type ItemStatus,
  type OnboardingReport,
} from '../../domain/onboarding-checklist.ts';

const MARK: Record<ItemStatus, string> = { pass: '✔', fail: '✖', pending: '…' };
const WORD: Record<ItemStatus, string> = { pass: 'done', fail: 'FAILED', pending: 'pending' };

/** `fleet doctor`: the checklist, one item a line with its state, then the evidence for it, indented. */
export function formatChecklist(report: OnboardingReport): string {
  const lines = [
    `onboarding checklist of ${report.clientId} (checked ${report.checkedAt} by ${report.checkedBy})`,
  ];
  for (const item of report.items) {
    // Who confirms the item, not whether it was: a pending human item is not attested.
    lines.push(
      `${MARK[item.status]} ${WORD[item.status].padEnd(8)} ${item.id.padEnd(28)} ${item.title}${item.kind === 'human' ? ' [by attestation]' : ''}`,
    );
    for (const line of item.evidence) lines.push(`             ${line}`);
  }
  lines.push(verdictLine(report));
  return lines.join('\n');
}

/** The last line: what the run amounts to, and what to do next. */
function verdictLine(report: OnboardingReport): string {
  const required = report.items.filter((item) => item.required);
  const count = (status: ItemStatus) => required.filter((item) => item.status === status).length;
  const again = `then run fleet doctor ${report.clientId} again`;
  switch (checklistVerdict(report)) {
    case 'complete':
      return 'every required item is done';
    case 'failed':
      return `${count('fail')} required item(s) FAILED, ${count('pending')} pending: put each ✖ right as its fix: line says, ${again}`;
    case 'pending':
      return `none failed, ${count('pending')} of ${required.length} required item(s) pending: attest, connect or wait for each as its line says, ${again}`;
  }
}

/**
 * `fleet doctor --attest`: that the attestation was recorded, first, then the checklist as it now stands
 * (a recorded attestation is done whatever else is still open).
 */
export function formatAttestation(report: OnboardingReport, item: string): string {
  const attested: ChecklistItem | undefined = report.items.find((candidate) => candidate.id === item);
  const recorded = attested?.status === 'pass' ? `: ${attested.evidence[0] ?? ''}` : '';
  return `recorded: ${item}${recorded}\n${formatChecklist(report)}`;
}

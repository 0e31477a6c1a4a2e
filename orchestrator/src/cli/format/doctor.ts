import type { ItemStatus, OnboardingReport } from '../../domain/onboarding-checklist.ts';

const MARK: Record<ItemStatus, string> = { pass: '✔', fail: '✖', pending: '…' };
const WORD: Record<ItemStatus, string> = { pass: 'done', fail: 'FAILED', pending: 'pending' };

/** `fleet doctor`: the checklist, one item a line with its state, then the evidence for it, indented. */
export function formatChecklist(report: OnboardingReport): string {
  const lines = [
    `onboarding checklist of ${report.clientId} (checked ${report.checkedAt} by ${report.checkedBy})`,
  ];
  for (const item of report.items) {
    lines.push(
      `${MARK[item.status]} ${WORD[item.status].padEnd(8)} ${item.id.padEnd(28)} ${item.title}${item.kind === 'human' ? ' [attested]' : ''}`,
    );
    for (const line of item.evidence) lines.push(`             ${line}`);
  }
  lines.push(
    report.open.required === 0
      ? 'every required item is done'
      : `${report.open.required} of ${report.items.length} required item(s) open`,
  );
  return lines.join('\n');
}

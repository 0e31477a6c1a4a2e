import type { SummaryReport } from './summary-report.ts';

export interface SummaryMeta {
  /** Client id, for the approve command. */
  client: string;
  /** Name shown in the greeting. */
  displayName: string;
  period: 'day' | 'week';
  /** The client's time zone, for the dates shown. */
  timezone: string;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function localTime(iso: string, timezone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

function usd(value: number): string {
  return `$${value.toFixed(value < 1 ? 4 : 2)}`;
}

/** One line of text per item; subjects and addresses come from email and are shown, never interpreted. */
function flat(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').slice(0, 200);
}

export function summarySubject(report: SummaryReport, meta: SummaryMeta): string {
  const what = meta.period === 'day' ? 'Daily summary' : 'Weekly onboarding digest';
  return `${what} for ${flat(meta.displayName)}: ${report.read} read, ${report.sent} sent, ${report.pendingApprovals.length} awaiting approval`;
}

export function renderSummaryText(report: SummaryReport, meta: SummaryMeta): string {
  const lines: string[] = [];
  lines.push(`${meta.period === 'day' ? 'Daily summary' : 'Weekly onboarding digest'} for ${flat(meta.displayName)}`);
  lines.push(`${localTime(report.from, meta.timezone)} to ${localTime(report.to, meta.timezone)} (${meta.timezone})`);
  lines.push('');
  lines.push(`Emails read: ${report.read}`);
  lines.push(`Drafts created: ${report.drafted}`);
  lines.push(`Emails sent: ${report.sent}`);
  lines.push(`Blocked by policy: ${report.blocked}${formatReasons(report.blockedReasons)}`);
  lines.push(`Sent to human review: ${report.reviewQueued}`);
  lines.push('');
  lines.push(`Waiting for your approval: ${report.pendingApprovals.length}`);
  for (const entry of report.pendingApprovals) {
    lines.push(`  - ${entry.id}: "${flat(entry.subject)}" to ${flat(entry.recipients)} (expires ${localTime(entry.expiresAt, meta.timezone)})`);
    lines.push(`    approve: fleet approvals approve ${meta.client} ${entry.id}`);
    lines.push(`    reject:  fleet approvals reject ${meta.client} ${entry.id} --reason "..."`);
  }
  lines.push(`Expired approvals (never sent): ${report.expiredApprovals.length}`);
  for (const entry of report.expiredApprovals) lines.push(`  - ${entry.id} (${localTime(entry.at, meta.timezone)})`);
  lines.push('');
  lines.push(`Anomalies and pauses: ${report.anomalies.length}`);
  for (const entry of report.anomalies) lines.push(`  - ${localTime(entry.at, meta.timezone)} ${entry.kind}${entry.detail ? `: ${flat(entry.detail)}` : ''}`);
  lines.push('');
  const perEmail = report.llm.costPerEmailUsd === null ? '' : `, ${usd(report.llm.costPerEmailUsd)} per email read`;
  lines.push(`AI usage: ${report.llm.calls} model calls, ${report.llm.inputTokens + report.llm.outputTokens} tokens, ${usd(report.llm.costUsd)}${perEmail}`);
  return `${lines.join('\n')}\n`;
}

export function renderSummaryHtml(report: SummaryReport, meta: SummaryMeta): string {
  const e = escapeHtml;
  const title = `${meta.period === 'day' ? 'Daily summary' : 'Weekly onboarding digest'} for ${meta.displayName}`;
  const row = (label: string, value: string) => `<tr><th align="left">${e(label)}</th><td>${e(value)}</td></tr>`;
  const pending = report.pendingApprovals
    .map(
      (entry) =>
        `<li><strong>${e(entry.id)}</strong>: &quot;${e(flat(entry.subject))}&quot; to ${e(flat(entry.recipients))} (expires ${e(localTime(entry.expiresAt, meta.timezone))})<br><code>fleet approvals approve ${e(meta.client)} ${e(entry.id)}</code></li>`,
    )
    .join('');
  const expired = report.expiredApprovals.map((entry) => `<li>${e(entry.id)} (${e(localTime(entry.at, meta.timezone))})</li>`).join('');
  const anomalies = report.anomalies
    .map((entry) => `<li>${e(localTime(entry.at, meta.timezone))} ${e(entry.kind)}${entry.detail ? `: ${e(flat(entry.detail))}` : ''}</li>`)
    .join('');
  return [
    '<!doctype html><html><body>',
    `<h1>${e(title)}</h1>`,
    `<p>${e(localTime(report.from, meta.timezone))} to ${e(localTime(report.to, meta.timezone))} (${e(meta.timezone)})</p>`,
    '<table>',
    row('Emails read', String(report.read)),
    row('Drafts created', String(report.drafted)),
    row('Emails sent', String(report.sent)),
    row('Blocked by policy', `${report.blocked}${formatReasons(report.blockedReasons)}`),
    row('Sent to human review', String(report.reviewQueued)),
    row('AI cost', `${usd(report.llm.costUsd)} (${report.llm.calls} calls)`),
    '</table>',
    `<h2>Waiting for your approval (${report.pendingApprovals.length})</h2>`,
    pending === '' ? '<p>None.</p>' : `<ul>${pending}</ul>`,
    `<h2>Expired approvals (${report.expiredApprovals.length})</h2>`,
    expired === '' ? '<p>None.</p>' : `<ul>${expired}</ul>`,
    `<h2>Anomalies and pauses (${report.anomalies.length})</h2>`,
    anomalies === '' ? '<p>None.</p>' : `<ul>${anomalies}</ul>`,
    '</body></html>',
  ].join('\n');
}

function formatReasons(reasons: Record<string, number>): string {
  const entries = Object.entries(reasons);
  return entries.length === 0 ? '' : ` (${entries.map(([reason, count]) => `${reason}: ${count}`).join(', ')})`;
}

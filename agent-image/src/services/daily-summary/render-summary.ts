import { MUTED, emailDocument, escapeHtml, factTable, heading, itemList, link, paragraph } from './email-layout.ts';
import type { SummaryReport } from './summary-report.ts';

export interface SummaryMeta {
  /** Client id, for the approve command. */
  client: string;
  /** Name shown in the greeting. */
  displayName: string;
  period: 'day' | 'week';
  /** The client's time zone, for the dates shown. */
  timezone: string;
  /** The client portal's origin: each pending approval links to its page there. Unknown: named only. */
  portalUrl?: string | undefined;
  /** Types the client opted in to free-text auto-send (never the default): restated in every summary. */
  freeTextOptIns?: readonly { type: string; acceptedBy: string; acceptedAt: string }[];
}

/** The security lines of a summary: senders that failed authentication, steering attempts, free-text opt-ins. */
function securityLines(report: SummaryReport, meta: SummaryMeta): string[] {
  const lines: string[] = [];
  lines.push(`Known contacts whose mail failed sender authentication (never auto-answered): ${report.unauthenticatedKnownSenders.length}`);
  for (const entry of report.unauthenticatedKnownSenders) {
    lines.push(`  - ${flat(entry.sender)}: ${entry.count} message(s) (${entry.reasons.map(flat).join(', ')})`);
  }
  lines.push(`Messages that tried to instruct the assistant or change its rules (never auto-answered): ${report.injectionSignalMessages}`);
  const flagged = report.settingsChanges.filter((change) => change.guardRails.length > 0);
  lines.push(`Settings changes: ${report.settingsChanges.length}, of which past a guard rail: ${flagged.length}`);
  for (const change of flagged) {
    lines.push(`  - version ${change.version} by ${flat(change.by)} on ${localTime(change.at, meta.timezone)}: ${change.guardRails.map(flat).join(', ')}`);
  }
  const optIns = meta.freeTextOptIns ?? [];
  if (optIns.length > 0) {
    lines.push(`Free-text auto-send is ON for: ${optIns.map((entry) => flat(entry.type)).join(', ')} (replies of these types are written by the AI and sent unread)`);
    for (const entry of optIns) lines.push(`  - ${flat(entry.type)}: accepted by ${flat(entry.acceptedBy)} on ${localTime(entry.acceptedAt, meta.timezone)}`);
  }
  return lines;
}

export { escapeHtml };

/** Where an admin reviews and decides an approval: its page in the client portal. */
function approvalPage(meta: SummaryMeta, id: string): string | null {
  return meta.portalUrl === undefined ? null : `${meta.portalUrl}/approvals/${encodeURIComponent(id)}`;
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
  lines.push(`CRM updates: ${report.crmUpdates}`);
  lines.push(`Calendar events created: ${report.calendarEvents}`);
  lines.push(`Blocked by policy: ${report.blocked}${formatReasons(report.blockedReasons)}`);
  lines.push(`Sent to human review: ${report.reviewQueued}`);
  lines.push('');
  lines.push(`Waiting for your approval: ${report.pendingApprovals.length}`);
  for (const entry of report.pendingApprovals) {
    lines.push(`  - ${entry.id}: "${flat(entry.subject)}" to ${flat(entry.recipients)} (expires ${localTime(entry.expiresAt, meta.timezone)})`);
    lines.push(`    review and decide: ${approvalPage(meta, entry.id) ?? 'in the client portal, under Approvals'}`);
  }
  lines.push(`Expired approvals (never sent): ${report.expiredApprovals.length}`);
  for (const entry of report.expiredApprovals) lines.push(`  - ${entry.id} (${localTime(entry.at, meta.timezone)})`);
  lines.push('');
  lines.push(...securityLines(report, meta));
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
  const title = `${meta.period === 'day' ? 'Daily summary' : 'Weekly onboarding digest'} for ${flat(meta.displayName)}`;
  const when = (iso: string) => localTime(iso, meta.timezone);
  const pending = report.pendingApprovals.map((entry) => {
    const page = approvalPage(meta, entry.id);
    const action = page === null ? e('Review and decide in the client portal, under Approvals.') : link(page, 'Review and decide');
    return `<strong>${e(flat(entry.subject) || '(no subject)')}</strong><br>to ${e(flat(entry.recipients))}<br><span style="color:${MUTED};font-size:14px;">expires ${e(when(entry.expiresAt))}</span><br>${action}`;
  });
  const expired = report.expiredApprovals.map((entry) => `${e(entry.id)} (${e(when(entry.at))})`);
  const anomalies = report.anomalies.map((entry) => `${e(when(entry.at))} ${e(entry.kind)}${entry.detail ? `: ${e(flat(entry.detail))}` : ''}`);
  const list = (items: string[]) => (items.length === 0 ? paragraph('None.') : itemList(items));
  const content = [
    paragraph(`${when(report.from)} to ${when(report.to)} (${meta.timezone})`, true),
    factTable([
      ['Emails read', String(report.read)],
      ['Drafts created', String(report.drafted)],
      ['Emails sent', String(report.sent)],
      ['CRM updates', String(report.crmUpdates)],
      ['Calendar events created', String(report.calendarEvents)],
      ['Blocked by policy', `${report.blocked}${formatReasons(report.blockedReasons)}`],
      ['Sent to human review', String(report.reviewQueued)],
      ['AI cost', `${usd(report.llm.costUsd)} (${report.llm.calls} calls)`],
    ]),
    heading(`Waiting for your approval (${report.pendingApprovals.length})`),
    list(pending),
    heading(`Expired approvals (${report.expiredApprovals.length})`),
    list(expired),
    heading('Sender authentication and auto-send'),
    itemList(securityLines(report, meta).map((line) => e(line.replace(/^ {2}- /, '— ')))),
    heading(`Anomalies and pauses (${report.anomalies.length})`),
    list(anomalies),
  ].join('\n');
  return emailDocument({
    title,
    preheader: `${report.read} read, ${report.sent} sent, ${report.pendingApprovals.length} awaiting your approval`,
    content,
    footer: `Sent by the AI assistant of ${flat(meta.displayName)} from its own mailbox, from its audit log.`,
  });
}

function formatReasons(reasons: Record<string, number>): string {
  const entries = Object.entries(reasons);
  return entries.length === 0 ? '' : ` (${entries.map(([reason, count]) => `${reason}: ${count}`).join(', ')})`;
}

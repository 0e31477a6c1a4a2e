import { isRepeatedWallTime, zonedFormatter } from '../../domain/zoned-time.ts';
import { actionWords } from './action-words.ts';
import { MUTED, emailDocument, escapeHtml, factTable, heading, itemList, link, paragraph } from './email-layout.ts';
import { inlineHtml, inlineText, untrusted, type Inline } from './inline-text.ts';
import { oneLine, quoteFromMail } from './mail-quote.ts';
import type { AnomalyGroup, SummaryReport } from './summary-report.ts';

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
  /**
   * The assistant's pause (the kill switch's softer half) when the summary is made: null while it works,
   * undefined when not known. Stated in every summary, since a pause older than the period shows in no
   * anomaly of it.
   */
  pause?: { reason: string; since: string; detail?: string | undefined } | null | undefined;
  /** Types the client opted in to free-text auto-send (never the default): restated in every summary. */
  freeTextOptIns?: readonly { type: string; acceptedBy: string; acceptedAt: string }[];
}

/**
 * How many entries of each list a summary shows; the rest are counted and left to the portal. A day of
 * 10,000 pending approvals or rate-limit hits must still make a mail an admin can read and that the outbox
 * accepts (at most 5 MB a part), not one that is refused and never arrives.
 */
export const LIST_LIMIT = 25;

const QUOTE_NOTE =
  'Subjects come from the emails being answered and show what their senders wrote; links in them are switched off (shown as hxxps[:]// and [.]).';

/** The first `LIST_LIMIT` items, and the line that counts the rest (null when none were left out). */
function bounded<T>(items: readonly T[]): { shown: readonly T[]; more: number } {
  return { shown: items.slice(0, LIST_LIMIT), more: Math.max(0, items.length - LIST_LIMIT) };
}

function count(value: number): string {
  return value.toLocaleString('en-GB');
}

/** One line of a summary's section: `sub` lines detail the line above them. */
interface SectionLine {
  sub: boolean;
  parts: readonly Inline[];
}

/** `items`, each isolated, separated by `, `. */
function isolatedList(items: readonly string[]): Inline[] {
  return items.flatMap((item, index) => (index === 0 ? [untrusted(item)] : [', ', untrusted(item)]));
}

/** The security lines of a summary: senders that failed authentication, steering attempts, free-text opt-ins. */
function securityLines(report: SummaryReport, meta: SummaryMeta): SectionLine[] {
  const lines: SectionLine[] = [];
  const line = (...parts: Inline[]) => lines.push({ sub: false, parts });
  const sub = (...parts: Inline[]) => lines.push({ sub: true, parts });
  line(`Known contacts whose mail failed sender authentication (never auto-answered): ${report.unauthenticatedKnownSenders.length}`);
  const senders = bounded(report.unauthenticatedKnownSenders);
  for (const entry of senders.shown) {
    // The reasons come from the Authentication-Results header, which the sender's side can write into.
    sub(untrusted(oneLine(entry.sender)), `: ${entry.count} message(s) (`, ...isolatedList(entry.reasons.slice(0, 10).map((reason) => oneLine(reason, 60))), ')');
  }
  if (senders.more > 0) sub(`and ${count(senders.more)} more senders, in the client portal`);
  line(`Messages that tried to instruct the assistant or change its rules (never auto-answered): ${report.injectionSignalMessages}`);
  const flagged = report.settingsChanges.filter((change) => change.guardRails.length > 0);
  line(`Settings changes: ${report.settingsChanges.length}, of which past a guard rail: ${flagged.length}`);
  const changes = bounded(flagged);
  for (const change of changes.shown) {
    sub(`version ${change.version} by `, untrusted(oneLine(change.by)), ` on ${localTime(change.at, meta.timezone)}: ${change.guardRails.map((rail) => oneLine(rail, 80)).join(', ')}`);
  }
  if (changes.more > 0) sub(`and ${count(changes.more)} more, in the client portal under Settings`);
  const optIns = meta.freeTextOptIns ?? [];
  if (optIns.length > 0) {
    line('Free-text auto-send is ON for: ', ...isolatedList(optIns.map((entry) => oneLine(entry.type))), ' (replies of these types are written by the AI and sent unread)');
    for (const entry of optIns) {
      sub(untrusted(oneLine(entry.type)), ': accepted by ', untrusted(oneLine(entry.acceptedBy)), ` on ${localTime(entry.acceptedAt, meta.timezone)}`);
    }
  }
  return lines;
}

function sectionText(lines: readonly SectionLine[]): string[] {
  return lines.map((line) => `${line.sub ? '  - ' : ''}${inlineText(line.parts)}`);
}

function sectionHtml(lines: readonly SectionLine[]): string[] {
  return lines.map((line) => `${line.sub ? '— ' : ''}${inlineHtml(line.parts)}`);
}

/** The client's name as the mails' titles and sentences show it, isolated. */
function clientName(meta: SummaryMeta): Inline {
  return untrusted(oneLine(meta.displayName));
}

function summaryTitle(meta: SummaryMeta): Inline[] {
  return [`${meta.period === 'day' ? 'Daily summary' : 'Weekly onboarding digest'} for `, clientName(meta)];
}

export { escapeHtml };

/** Where an admin reviews and decides an approval: its page in the client portal. */
function approvalPage(meta: SummaryMeta, id: string): string | null {
  return meta.portalUrl === undefined ? null : `${meta.portalUrl}/approvals/${encodeURIComponent(id)}`;
}

/** Where an admin sees every pending approval. */
function approvalsPage(meta: SummaryMeta): string | null {
  return meta.portalUrl === undefined ? null : `${meta.portalUrl}/approvals`;
}

/**
 * An instant as the client's local date and time. A time in the hour the clocks repeat (fall back) also
 * names its zone (BST or GMT, GMT-4 or GMT-5): two 01:30s of one night are not the same time.
 */
function localTime(iso: string, timezone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return oneLine(iso, 40);
  const wall = zonedFormatter(timezone, 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  if (!isRepeatedWallTime(date, timezone)) return wall;
  const zone = zonedFormatter(timezone, 'en-GB', { timeZoneName: 'short' })
    .formatToParts(date)
    .find((part) => part.type === 'timeZoneName')?.value;
  return zone === undefined ? wall : `${wall} ${zone}`;
}

function usd(value: number): string {
  return `$${value.toFixed(value < 1 ? 4 : 2)}`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** How the people of a held action that is not an email relate to it. */
function concerning(entry: SummaryReport['pendingApprovals'][number]): string {
  return entry.action === 'calendar.write' ? 'notifies' : 'concerns';
}

/**
 * One pending approval as the plain-text part names it: an email by its quoted subject and recipients,
 * anything else by what it does, so that a calendar change never reads as an email without a subject.
 */
function pendingWhat(entry: SummaryReport['pendingApprovals'][number]): Inline[] {
  if (entry.action === undefined) return ['"', untrusted(quoteFromMail(entry.subject)), '" to ', untrusted(oneLine(entry.recipients))];
  const people: Inline[] = entry.recipients === '' ? [] : [`, ${concerning(entry)} `, untrusted(oneLine(entry.recipients))];
  return [actionWords(entry.action, entry.operation), ...people];
}

/** Pending approvals, the soonest to expire first: those are the ones an admin must not miss. */
function pendingBySoonest(report: SummaryReport): SummaryReport['pendingApprovals'] {
  return [...report.pendingApprovals].sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : 0));
}

/** The report's anomaly groups as shown: those that read the same once cleaned up are one. */
function anomalyGroups(report: SummaryReport): AnomalyGroup[] {
  const groups = new Map<string, AnomalyGroup>();
  for (const entry of report.anomalyGroups) {
    const kind = oneLine(entry.kind, 40);
    const detail = quoteFromMail(entry.detail);
    const key = `${kind}\u0000${detail}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { ...entry, kind, detail });
    else {
      group.count += entry.count;
      if (entry.first < group.first) group.first = entry.first;
      if (entry.last > group.last) group.last = entry.last;
    }
  }
  return [...groups.values()];
}

/** The anomaly groups a summary lists, and how many anomalies are in none of them. */
function shownAnomalies(report: SummaryReport): { shown: readonly AnomalyGroup[]; more: number } {
  const { shown } = bounded(anomalyGroups(report));
  const listed = shown.reduce((sum, group) => sum + group.count, 0);
  return { shown, more: Math.max(0, report.anomaliesTotal - listed) };
}

function anomalyLine(group: AnomalyGroup, timezone: string): Inline[] {
  const what: Inline[] = group.detail ? [`${group.kind}: `, untrusted(group.detail)] : [group.kind];
  if (group.count === 1) return [`${localTime(group.first, timezone)} `, ...what];
  return [...what, `: ${count(group.count)} times, ${localTime(group.first, timezone)} to ${localTime(group.last, timezone)}`];
}

function portalNote(meta: SummaryMeta): string {
  const origin = meta.portalUrl === undefined ? 'your client portal' : `your client portal (${oneLine(meta.portalUrl)})`;
  return `The only links in this email go to ${origin}. If a link in it leads anywhere else, do not open it.`;
}

const PAUSE_MEANING: Record<string, string> = {
  auth: 'nothing is read, drafted or sent until it is resumed',
  rate_limit: 'nothing is sent until the rate-limit window ends or it is resumed',
};

/** The assistant's state as one line, or null when it is not known. */
function stateLine(meta: SummaryMeta): Inline[] | null {
  if (meta.pause === undefined) return null;
  if (meta.pause === null) return ['working (not paused)'];
  const { reason, since, detail } = meta.pause;
  const why: Inline[] = detail === undefined || detail === '' ? [oneLine(reason, 40)] : [`${oneLine(reason, 40)}: `, untrusted(quoteFromMail(detail))];
  return [`PAUSED since ${localTime(since, meta.timezone)} (`, ...why, `); ${PAUSE_MEANING[reason] ?? 'resume it in the client portal'}`];
}

export function summarySubject(report: SummaryReport, meta: SummaryMeta): string {
  const what = `${meta.pause ? 'PAUSED: ' : ''}${meta.period === 'day' ? 'Daily summary' : 'Weekly onboarding digest'}`;
  return inlineText([`${what} for `, clientName(meta), `: ${report.read} read, ${report.sent} sent, ${report.pendingApprovals.length} awaiting approval`]);
}

export function renderSummaryText(report: SummaryReport, meta: SummaryMeta): string {
  const lines: string[] = [];
  lines.push(inlineText(summaryTitle(meta)));
  lines.push(`${localTime(report.from, meta.timezone)} to ${localTime(report.to, meta.timezone)} (${meta.timezone})`);
  lines.push('');
  const state = stateLine(meta);
  if (state !== null) lines.push(`Assistant: ${inlineText(state)}`);
  lines.push(`Emails read: ${report.read}`);
  lines.push(`Drafts created: ${report.drafted}`);
  lines.push(`Emails sent: ${report.sent}`);
  lines.push(`CRM updates: ${report.crmUpdates}`);
  lines.push(`Calendar events created: ${report.calendarEvents}`);
  lines.push(`Blocked by policy: ${report.blocked}${formatReasons(report.blockedReasons)}`);
  lines.push(`Sent to human review: ${report.reviewQueued}`);
  lines.push('');
  lines.push(`Waiting for your approval: ${report.pendingApprovals.length}`);
  const pending = bounded(pendingBySoonest(report));
  if (pending.shown.length > 0) {
    lines.push('Nothing here happens until someone approves it in the client portal; what is not decided in time never happens.');
    lines.push(QUOTE_NOTE);
  }
  for (const entry of pending.shown) {
    lines.push(`  - ${oneLine(entry.id, 100)}: ${inlineText(pendingWhat(entry))} (decide before ${localTime(entry.expiresAt, meta.timezone)})`);
    lines.push(`    review and decide: ${approvalPage(meta, entry.id) ?? 'in the client portal, under Approvals'}`);
  }
  if (pending.more > 0) lines.push(`  - and ${count(pending.more)} more: ${approvalsPage(meta) ?? 'in the client portal, under Approvals'}`);
  lines.push(`Expired approvals (never sent): ${report.expiredApprovalsTotal}`);
  const expired = shownExpired(report);
  for (const entry of expired.shown) lines.push(`  - ${oneLine(entry.id, 100)} (${localTime(entry.at, meta.timezone)})`);
  if (expired.more > 0) lines.push(`  - and ${count(expired.more)} more, in the client portal's audit log`);
  lines.push('');
  lines.push(...sectionText(securityLines(report, meta)));
  lines.push('');
  lines.push(`Anomalies and pauses: ${report.anomaliesTotal}`);
  const anomalies = shownAnomalies(report);
  for (const group of anomalies.shown) lines.push(`  - ${inlineText(anomalyLine(group, meta.timezone))}`);
  if (anomalies.more > 0) lines.push(`  - and ${count(anomalies.more)} more, in the client portal's audit log`);
  lines.push('');
  const perEmail = report.llm.costPerEmailUsd === null ? '' : `, ${usd(report.llm.costPerEmailUsd)} per email read`;
  lines.push(`AI usage: ${report.llm.calls} model calls, ${report.llm.inputTokens + report.llm.outputTokens} tokens, ${usd(report.llm.costUsd)}${perEmail}`);
  lines.push('');
  lines.push(portalNote(meta));
  return `${lines.join('\n')}\n`;
}

/** The expired approvals a summary lists, and how many more expired. */
function shownExpired(report: SummaryReport): { shown: readonly SummaryReport['expiredApprovals'][number][]; more: number } {
  const shown = report.expiredApprovals.slice(0, LIST_LIMIT);
  return { shown, more: Math.max(0, report.expiredApprovalsTotal - shown.length) };
}

export function renderSummaryHtml(report: SummaryReport, meta: SummaryMeta): string {
  const e = escapeHtml;
  const when = (iso: string) => localTime(iso, meta.timezone);
  // <bdi>: right-to-left text in a subject stays inside it and cannot reorder the words around it.
  const pending = bounded(pendingBySoonest(report));
  const pendingItems = pending.shown.map((entry) => {
    const page = approvalPage(meta, entry.id);
    const action = page === null ? e('Review and decide in the client portal, under Approvals.') : link(page, 'Review and decide');
    const what =
      entry.action === undefined
        ? `<strong><bdi>${e(quoteFromMail(entry.subject) || '(no subject)')}</bdi></strong><br>to <bdi>${e(oneLine(entry.recipients))}</bdi>`
        : `<strong>${e(capitalised(actionWords(entry.action, entry.operation)))}</strong>${entry.recipients === '' ? '' : `<br>${e(concerning(entry))} <bdi>${e(oneLine(entry.recipients))}</bdi>`}`;
    return `${what}<br><span style="color:${MUTED};font-size:14px;">decide before ${e(when(entry.expiresAt))}</span><br>${action}`;
  });
  if (pending.more > 0) {
    const all = approvalsPage(meta);
    pendingItems.push(`and ${e(count(pending.more))} more: ${all === null ? e('see the client portal, under Approvals.') : link(all, 'see all in the client portal')}`);
  }
  const expired = shownExpired(report);
  const expiredItems = expired.shown.map((entry) => `${e(oneLine(entry.id, 100))} (${e(when(entry.at))})`);
  if (expired.more > 0) expiredItems.push(e(`and ${count(expired.more)} more, in the client portal's audit log`));
  const anomalies = shownAnomalies(report);
  const anomalyItems = anomalies.shown.map((group) => inlineHtml(anomalyLine(group, meta.timezone)));
  if (anomalies.more > 0) anomalyItems.push(e(`and ${count(anomalies.more)} more, in the client portal's audit log`));
  const list = (items: string[]) => (items.length === 0 ? paragraph('None.') : itemList(items));
  const state = stateLine(meta);
  const content = [
    paragraph(`${when(report.from)} to ${when(report.to)} (${meta.timezone})`, true),
    factTable([
      ...(state === null ? [] : [['Assistant', state] as const]),
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
    ...(pendingItems.length === 0
      ? []
      : [paragraph('Nothing here happens until someone approves it in the client portal; what is not decided in time never happens.'), paragraph(QUOTE_NOTE, true)]),
    list(pendingItems),
    heading(`Expired approvals (${report.expiredApprovalsTotal})`),
    list(expiredItems),
    heading('Sender authentication and auto-send'),
    itemList(sectionHtml(securityLines(report, meta))),
    heading(`Anomalies and pauses (${report.anomaliesTotal})`),
    list(anomalyItems),
    paragraph(portalNote(meta), true),
  ].join('\n');
  return emailDocument({
    title: summaryTitle(meta),
    preheader: `${report.read} read, ${report.sent} sent, ${report.pendingApprovals.length} awaiting your approval`,
    content,
    footer: ['Sent by the AI assistant of ', clientName(meta), ' from its own mailbox, from its audit log.'],
  });
}

function formatReasons(reasons: Record<string, number>): string {
  const entries = Object.entries(reasons);
  if (entries.length === 0) return '';
  const shown = entries.slice(0, 10).map(([reason, times]) => `${oneLine(reason, 60)}: ${times}`);
  return ` (${shown.join(', ')}${entries.length > 10 ? `, ${entries.length - 10} other reasons` : ''})`;
}

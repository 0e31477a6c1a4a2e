import type { IncidentClock } from './incident-clocks.ts';
import type { ReportModel } from './report-model.ts';

/**
 * The post-incident report as Markdown and as a standalone HTML page. Pure. Every text that came from
 * people or systems (summaries, notes, audit actors) is escaped: in Markdown so that it cannot become
 * markup or a link, in HTML so that it cannot become an element.
 */

/**
 * Characters a viewer acts on instead of showing: the C0 controls but tab and line feed (an escape sequence
 * from an audit actor would drive the terminal of whoever `cat`s the report), DEL, the C1 controls, and the
 * bidirectional marks, embeddings, overrides and isolates that reorder what a reader sees.
 */
const ACTIVE_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Each such character as a visible escape (`\x1b`, `\u202e`): shown, and inert. */
function inert(value: string): string {
  return value.replace(ACTIVE_CHARACTERS, (character) => {
    const code = character.codePointAt(0) ?? 0;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Markdown text that renders as the literal characters (one line; HTML-significant characters as entities). */
export function mdText(value: string): string {
  return inert(value.replace(/\s*[\r\n]+\s*/g, ' '))
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replace(/[\\`*_[\]|!~]/g, (c) => `\\${c}`)
    .replace(/^\s*#/, (hash) => `${hash.slice(0, -1)}\\#`);
}

export function htmlText(value: string): string {
  return inert(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

const CLOCK_TITLES: Record<IncidentClock['name'], string> = {
  response: 'Response (by severity)',
  assessment: 'Assessment (4 h)',
  notification: 'Client notification (24 h after confirmation)',
  report: 'Post-incident report (7 days)',
};

interface Section {
  title: string;
  paragraphs?: string[];
  table?: { head: string[]; rows: string[][] };
}

/** In place of the text written for the whole incident, in one client's report of an incident of several. */
export const WITHHELD_INCIDENT_TEXT =
  'Withheld from this client’s report: written for the whole incident, which concerns other clients too. The operator includes it after reading it for their names and details.';

/** When containment held; or that it never did and why the incident was closed anyway. */
function contained(incident: ReportModel['incident'], shared: (value: string) => string): string {
  const override = incident.containmentOverride ?? null;
  if (override === null) return incident.containedAt ?? '—';
  return `never held (${override.unheld.join(', ')}); closed ${override.at} by ${override.by} with a containment override: ${shared(override.reason)}`;
}

function sections(model: ReportModel): Section[] {
  const { incident } = model;
  const dash = (value: string | null) => value ?? '—';
  const shared = <T extends string | null>(value: T): T | string => (value === null || model.incidentText === 'shown' ? value : WITHHELD_INCIDENT_TEXT);
  return [
    {
      title: 'Summary',
      table: {
        head: ['Field', 'Value'],
        rows: [
          ['Incident', incident.id],
          ['Severity', incident.severity],
          ['Status', incident.status],
          ['Summary', shared(incident.summary)],
          ['Clients affected', incident.clients.length > 0 ? incident.clients.join(', ') : 'none named'],
          ['Opened', `${incident.openedAt} by ${incident.openedBy}`],
          ['Breach confirmed', incident.confirmedAt === null ? 'no' : `${incident.confirmedAt}: ${dash(shared(incident.confirmedScope))}`],
          ['Contained', contained(incident, shared)],
          ['Closed', dash(incident.closedAt)],
        ],
      },
    },
    {
      title: 'Clocks',
      table: {
        head: ['Clock', 'State', 'Started', 'Deadline', 'Met at'],
        rows: model.clocks.map((c) => [CLOCK_TITLES[c.name], c.state, dash(c.startedAt), dash(c.deadline), dash(c.stoppedAt)]),
      },
    },
    {
      title: 'Timeline',
      paragraphs: model.auditSources.map((source) => `Audit events of ${source.clientId}: ${source.note}`),
      table: { head: ['Time', 'Source', 'Who', 'What', 'Outcome'], rows: model.timeline.map((e) => [e.at, e.source, e.actor, e.what, e.outcome]) },
    },
    {
      title: 'Actions taken',
      table: {
        head: ['Time', 'Client', 'Action', 'By', 'Outcome', 'Detail'],
        rows: [
          ...[
            ...incident.containment.map((s) => [s.at, s.clientId, `containment: ${s.step}`, s.by, s.outcome, s.detail]),
            ...incident.evidence.map((e) => [e.at, e.clientId, 'evidence sealed', e.by, 'success', `SHA-256 ${e.sha256}, ${e.bytes} bytes, signed by ${e.signingKeyId}`]),
            ...incident.notifications.map((n) => [n.at, n.clientId ?? '—', `client notified via ${n.channel}`, n.by, 'success', n.recipient === '' ? `recorded by ${n.recordedBy}` : `to ${n.recipient}; recorded by ${n.recordedBy}`]),
          ].sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '')),
          ...model.grants.map((g) => ['—', g.clientId, `support grant ${g.id}`, g.member, g.status, 'support access linked to this incident']),
        ],
      },
    },
    { title: 'Root cause', paragraphs: [shared(incident.rootCause) ?? 'Not yet determined (the incident is not closed).'] },
    { title: 'Remediation', paragraphs: [shared(incident.remediation) ?? 'Not recorded.'] },
    { title: 'Lessons learned', paragraphs: [shared(incident.lessons) ?? 'Not yet recorded (the incident is not closed).'] },
  ];
}

function heading(model: ReportModel): { title: string; status: string } {
  const title = `Post-incident report ${model.incident.id}`;
  const status = model.final
    ? `Final report, generated ${model.generatedAt}.`
    : `DRAFT, generated ${model.generatedAt}: the incident is not closed; the final report is rendered after \`fleet incident close\`.`;
  return { title, status };
}

export function renderReportMarkdown(model: ReportModel): string {
  const { title, status } = heading(model);
  const lines = [`# ${title}`, '', status, ''];
  for (const section of sections(model)) {
    lines.push(`## ${section.title}`, '');
    for (const paragraph of section.paragraphs ?? []) lines.push(mdText(paragraph), '');
    if (section.table) {
      lines.push(`| ${section.table.head.join(' | ')} |`, `| ${section.table.head.map(() => '---').join(' | ')} |`);
      if (section.table.rows.length === 0) lines.push(`| ${section.table.head.map((_, i) => (i === 0 ? 'none' : '')).join(' | ')} |`);
      for (const row of section.table.rows) lines.push(`| ${row.map(mdText).join(' | ')} |`);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function renderReportHtml(model: ReportModel): string {
  const { title, status } = heading(model);
  const body: string[] = [`<h1>${htmlText(title)}</h1>`, `<p class="status">${htmlText(status.replaceAll('`', ''))}</p>`];
  for (const section of sections(model)) {
    body.push(`<h2>${htmlText(section.title)}</h2>`);
    for (const paragraph of section.paragraphs ?? []) body.push(`<p>${htmlText(paragraph)}</p>`);
    if (section.table) {
      const head = section.table.head.map((cell) => `<th scope="col">${htmlText(cell)}</th>`).join('');
      const rows = section.table.rows.map((row) => `<tr>${row.map((cell) => `<td>${htmlText(cell)}</td>`).join('')}</tr>`);
      body.push(`<table><thead><tr>${head}</tr></thead><tbody>${rows.length > 0 ? rows.join('\n') : `<tr><td colspan="${section.table.head.length}">none</td></tr>`}</tbody></table>`);
    }
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlText(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { border: 1px solid #c8c8c8; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f0f0; }
.status { font-weight: 600; }
</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

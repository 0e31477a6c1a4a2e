import type { ExportVerification } from '../../services/export/export-archive-verifier.ts';
import type { IncidentClock } from '../../services/incidents/incident-clocks.ts';
import type { ContainResult } from '../../services/incidents/incident-containment.ts';
import type { EvidenceResult } from '../../services/incidents/incident-evidence.ts';
import type { IncidentView } from '../../services/incidents/incident-service.ts';
import { clientsWithoutContainment, containmentRetries, incidentNextSteps } from './incident-next-steps.ts';

/** `1 h 5 min`, `3 d 4 h`, `45 s`: a duration at the precision a deadline needs. */
export function formatDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

export function formatClock(clock: IncidentClock): string {
  const name = clock.name.padEnd(13);
  switch (clock.state) {
    case 'running':
      return `${name}running   due ${clock.deadline} (in ${formatDuration(clock.secondsLeft ?? 0)})`;
    case 'overdue':
      return `${name}OVERDUE   was due ${clock.deadline} (${formatDuration(clock.secondsLeft ?? 0)} ago)`;
    case 'met':
      return `${name}met       at ${clock.stoppedAt} (due ${clock.deadline})`;
    case 'met-late':
      return `${name}met late  at ${clock.stoppedAt} (was due ${clock.deadline})`;
    case 'waiting':
      return `${name}waiting   starts when a breach is confirmed`;
    case 'not-needed':
      return `${name}not needed`;
  }
}

/** One line per incident: id, severity, status, the nearest running deadline, the summary. */
export function formatIncidentList(views: readonly IncidentView[]): string {
  if (views.length === 0) return 'no incidents';
  return views
    .map(({ incident, clocks }) => {
      const next = clocks.filter((c) => c.secondsLeft !== null).sort((a, b) => (a.secondsLeft ?? 0) - (b.secondsLeft ?? 0))[0];
      const due = next === undefined ? '-' : `${next.name} ${next.state === 'overdue' ? 'OVERDUE' : `in ${formatDuration(next.secondsLeft ?? 0)}`}`;
      return `${incident.id.padEnd(8)} ${incident.severity.padEnd(8)} ${incident.status.padEnd(9)} ${due.padEnd(24)} ${incident.summary}`;
    })
    .join('\n');
}

export function formatIncident(view: IncidentView): string {
  const { incident } = view;
  const lines = [
    `${incident.id}  ${incident.severity}  ${incident.status}${incident.confirmedAt ? '  BREACH CONFIRMED' : ''}`,
    `  ${incident.summary}`,
    `  opened ${incident.openedAt} by ${incident.openedBy}; clients: ${incident.clients.length > 0 ? incident.clients.join(', ') : 'none named'}`,
    ...(incident.confirmedAt === null ? [] : [`  breach confirmed ${incident.confirmedAt}: ${incident.confirmedScope ?? ''}`]),
    '  clocks:',
    ...view.clocks.map((clock) => `    ${formatClock(clock)}`),
  ];
  if (incident.containment.length > 0) {
    lines.push('  containment:', ...incident.containment.map((s) => `    ${s.at}  ${s.clientId}  ${s.step}  ${s.outcome}: ${s.detail}`));
  }
  if (incident.evidence.length > 0) {
    lines.push('  evidence:', ...incident.evidence.map((e) => `    ${e.at}  ${e.clientId}  ${e.file}  sha256:${e.sha256}`));
  }
  if (incident.notifications.length > 0) {
    lines.push('  notified:', ...incident.notifications.map((n) => `    ${n.at}  ${n.clientId ?? '-'}  by ${n.by} via ${n.channel}${n.recipient ? ` to ${n.recipient}` : ''}`));
  }
  if (view.grants.length > 0) {
    lines.push('  support grants:', ...view.grants.map((g) => `    ${g.id}  ${g.clientId}  ${g.member}  ${g.status}`));
  }
  if (incident.closedAt) lines.push(`  closed ${incident.closedAt}; root cause: ${incident.rootCause ?? ''}`);
  const override = incident.containmentOverride ?? null;
  if (override !== null) {
    lines.push(`  closed although containment never held (${override.unheld.join(', ')}); override by ${override.by}: ${override.reason}`);
  }
  const next = incidentNextSteps(incident, view.clocks);
  if (next.length > 0) lines.push('  next:', ...next.map((step) => `    ${step}`));
  return lines.join('\n');
}

export function formatContained(result: ContainResult): string {
  const lines = result.steps.map((s) => `${s.outcome === 'success' ? '✔' : '✖'} ${s.clientId} ${s.step}: ${s.detail}`);
  const { incident } = result;
  if (incident.status !== 'open') {
    lines.push(`${incident.id} is ${incident.status === 'contained' ? 'contained' : 'closed'}.`);
    return lines.join('\n');
  }
  const retries = containmentRetries(incident);
  const untried = clientsWithoutContainment(incident);
  lines.push(`${incident.id} is not contained:`, ...retries.map((retry) => `  ${retry}`));
  for (const client of untried) lines.push(`  no step was taken for ${client}: fleet incident contain ${incident.id} --kill | --rotate | --revoke-oauth --client ${client}`);
  return lines.join('\n');
}

export function formatEvidence(result: EvidenceResult): string {
  return result.bundles
    .flatMap((bundle) => [
      `${bundle.clientId}: sealed ${bundle.file} (${bundle.bytes} bytes, encrypted under the client's key)`,
      `  sha256:${bundle.sha256}  signed by ${bundle.signingKeyId}${bundle.archiveSha256 === undefined ? '' : `; archive inside sha256:${bundle.archiveSha256}`}`,
      ...bundle.parts.map((p) => `  ${p.file === null ? '–' : '✔'} ${p.part}${p.file === null ? `: ${p.note}` : ''}`),
    ])
    .concat(result.bundles.length > 0 ? [`a decrypted copy for investigators: fleet incident evidence-copy ${result.incident.id} --client <id> --out <file>`] : [])
    .join('\n');
}

/** What `fleet incident evidence-copy` wrote and what was checked before it was kept. */
export function formatEvidenceCopied(out: string, bundle: string, verification: ExportVerification, bytes: number): string {
  const manifest = verification.manifest;
  return [
    `${out}: evidence bundle ${bundle} of ${manifest?.clientId ?? '?'} (${manifest?.files.length ?? 0} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB), decrypted`,
    `  signed by ${manifest?.signingKeyId ?? '?'}; checked against the fleet's public key and the SHA-256 recorded when it was sealed`,
    '  the copy is in the ops log; keep it where client data may be kept, and delete it when the investigation ends',
  ].join('\n');
}

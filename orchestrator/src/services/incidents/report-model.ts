import type { ContainmentOverride, IncidentRecord } from '../../ports/incident-store.ts';
import type { OpsLogEntry } from '../../ports/registry.ts';
import type { IncidentClock } from './incident-clocks.ts';
import { INCIDENT_ACTIONS } from './incident-service.ts';

/** One line of the post-incident timeline. */
export interface TimelineEvent {
  at: string;
  /** `ops-log` (the fleet's admin actions) or `audit:<client>` (what the client's agent recorded). */
  source: string;
  actor: string;
  what: string;
  outcome: string;
}

/** An audit record as the report shows it: what, who, when, how it ended; never its target or content. */
export interface AuditEvent {
  clientId: string;
  seq: number;
  timestamp: string;
  actionType: string;
  actor: string;
  result: string;
}

export interface ReportModel {
  incident: IncidentRecord;
  clocks: IncidentClock[];
  timeline: TimelineEvent[];
  /** Where the audit part of the timeline came from, per client (the bundle, or why there is none). */
  auditSources: { clientId: string; note: string }[];
  grants: { id: string; clientId: string; member: string; status: string }[];
  generatedAt: string;
  final: boolean;
  /**
   * `withheld`: the text written for the whole incident (summary, scope, root cause, remediation, lessons,
   * its notes) is left out: the report is one client's of an incident that concerns others too, and that
   * text may name them. `shown`: as written (the whole incident's report, a single-client incident's, or
   * an operator who read it and chose to include it).
   */
  incidentText: 'shown' | 'withheld';
}

/** How far before the opening the timeline looks, for what led up to the detection. */
export const LOOKBACK_MS = 24 * 3_600_000;
/** Audit events per client in the timeline at most, the latest kept: the evidence bundle holds them all. */
export const MAX_AUDIT_EVENTS = 200;

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
}

/** How a report describes ops-log entries: with or without the whole incident's text, for which of its clients. */
export interface DescribeOptions {
  incidentText: boolean;
  /** The clients the report is for (a close entry's override lists only their steps); default: all. */
  clients?: readonly string[];
}

/**
 * A close entry's containment override as a report for `clients` shows it: only their steps that never held
 * (what never held for another client is that client's), or null when none of theirs is left.
 */
function overrideForClients(value: unknown, clients: readonly string[] | undefined): { reason: unknown; unheld: string[] } | null {
  if (value === null || typeof value !== 'object') return null;
  const override = value as Record<string, unknown>;
  const listed = Array.isArray(override['unheld']) ? override['unheld'].map(text) : [];
  const unheld = clients === undefined ? listed : listed.filter((step) => clients.some((client) => step.startsWith(`${client} `)));
  return unheld.length === 0 ? null : { reason: override['reason'], unheld };
}

/** What an incident-wide entry was, without the text written for the whole incident. */
function describeWithoutIncidentText(entry: OpsLogEntry, clients: readonly string[] | undefined): string {
  const d = entry.details;
  switch (entry.action) {
    case INCIDENT_ACTIONS.open:
      return `Incident opened (${text(d['severity'])})`;
    case INCIDENT_ACTIONS.note:
      return d['assessment'] === true ? 'Assessment recorded' : 'Note recorded';
    case INCIDENT_ACTIONS.confirm:
      return 'Breach confirmed';
    case INCIDENT_ACTIONS.close:
      return overrideForClients(d['containmentOverride'], clients) === null ? 'Closed' : 'Closed with a containment override';
    default:
      return entry.action;
  }
}

/** A close entry's containment override, as the timeline says it (empty when there was none for these clients). */
function overrideText(value: unknown, clients: readonly string[] | undefined): string {
  const override = overrideForClients(value, clients);
  if (override === null) return '';
  return ` although containment never held (${override.unheld.join(', ')}); override: ${text(override.reason)}`;
}

/**
 * What an ops-log entry means, in one line. `incidentText: false` leaves out what was written for the
 * whole incident (an entry under no client of a per-client report that withholds it).
 */
export function describeOpsEntry(entry: OpsLogEntry, options: DescribeOptions = { incidentText: true }): string {
  const carriesIncidentText = entry.clientId === null && entry.action !== INCIDENT_ACTIONS.report;
  if (!options.incidentText && carriesIncidentText) return `${describeWithoutIncidentText(entry, options.clients)} (text written for the whole incident withheld)`;
  const d = entry.details;
  switch (entry.action) {
    case INCIDENT_ACTIONS.open:
      return `Incident opened (${text(d['severity'])}): ${entry.reason ?? ''}`;
    case INCIDENT_ACTIONS.note:
      return `${d['assessment'] === true ? 'Assessment' : 'Note'}: ${entry.reason ?? ''}`;
    case INCIDENT_ACTIONS.confirm:
      return `Breach confirmed: ${entry.reason ?? ''}`;
    case INCIDENT_ACTIONS.notify:
      return `Client ${text(d['clientId']) || ''} told by ${text(d['by'])} via ${text(d['channel'])} at ${text(d['at'])}${d['recipient'] ? ` (to ${text(d['recipient'])})` : ''}`;
    case INCIDENT_ACTIONS.contain:
      return `Containment, ${text(d['step'])}: ${text(d['detail'])}`;
    case INCIDENT_ACTIONS.evidence:
      return `Evidence sealed (SHA-256 ${text(d['sha256'])})`;
    case INCIDENT_ACTIONS.evidenceCopy:
      return `Evidence ${text(d['bundle'])} copied out for investigation`;
    case INCIDENT_ACTIONS.close:
      return `Closed${overrideText(d['containmentOverride'], options.clients)}. Root cause: ${entry.reason ?? ''}`;
    case INCIDENT_ACTIONS.report:
      return `${d['final'] === true ? 'Final' : 'Draft'} post-incident report rendered`;
    default:
      return `${entry.action}${entry.reason ? `: ${entry.reason}` : ''}`;
  }
}

/**
 * The timeline: the incident's own ops-log entries, the other admin actions on its clients from a day
 * before it opened until it closed, and the clients' audit events of that window. Oldest first. `incident`
 * is the one the report shows: one client's report describes only that client's steps that never held.
 */
export function buildTimeline(
  incident: IncidentRecord,
  opsLog: readonly OpsLogEntry[],
  audit: readonly AuditEvent[],
  now: Date,
  options: { incidentText: boolean } = { incidentText: true },
): TimelineEvent[] {
  const inWindow = incidentWindow(incident, now);
  const ops = opsLog.filter((entry) => inIncidentTimeline(incident, entry, now));
  const describe = { ...options, clients: incident.clients };
  const events: TimelineEvent[] = ops.map((entry) => ({ at: entry.at, source: 'ops-log', actor: entry.actor, what: describeOpsEntry(entry, describe), outcome: entry.outcome }));
  const windowed = audit.filter((event) => inWindow(event.timestamp));
  const kept = incident.clients.flatMap((client) => windowed.filter((event) => event.clientId === client).slice(-MAX_AUDIT_EVENTS));
  for (const record of kept) {
    events.push({ at: record.timestamp, source: `audit:${record.clientId}`, actor: record.actor, what: `${record.actionType} (audit #${record.seq})`, outcome: record.result });
  }
  return events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * The incident as one of its clients' report shows it: that client alone, and only its containment steps,
 * notifications and evidence (a report handed to one client of a multi-client incident must not name the
 * others or what was done to them). The free-text fields stay in the record: whether they are shown is the
 * report's `incidentText` (sharesIncidentText). Pure.
 */
export function incidentForClient(incident: IncidentRecord, clientId: string): IncidentRecord {
  return {
    ...incident,
    clients: incident.clients.filter((client) => client === clientId),
    notifications: incident.notifications.filter((notice) => notice.clientId === clientId),
    containment: incident.containment.filter((step) => step.clientId === clientId),
    evidence: incident.evidence.filter((bundle) => bundle.clientId === clientId),
    containmentOverride: overrideFor(incident.containmentOverride ?? null, clientId),
  };
}

/** The part of a containment override about one client: its steps that never held, or none. */
function overrideFor(override: ContainmentOverride | null, clientId: string): ContainmentOverride | null {
  const unheld = override?.unheld.filter((step) => step.startsWith(`${clientId} `)) ?? [];
  return override === null || unheld.length === 0 ? null : { ...override, unheld };
}

/**
 * Whether one client's report of the incident may show the text written for the whole incident: always for
 * the whole incident's report and for an incident of that client alone; for an incident of several clients
 * only when the operator chose to include it (having read it for the other clients' names and details).
 */
export function sharesIncidentText(incident: Pick<IncidentRecord, 'clients'>, client: string | undefined, includeIncidentText: boolean): boolean {
  return client === undefined || incident.clients.length <= 1 || includeIncidentText;
}

/** Whether a time lies in the incident's window: from a while before it opened until it closed (or now). */
export function incidentWindow(incident: IncidentRecord, now: Date): (at: string) => boolean {
  const from = Date.parse(incident.openedAt) - LOOKBACK_MS;
  const until = incident.closedAt === null ? now.getTime() : Date.parse(incident.closedAt);
  return (at) => {
    const time = Date.parse(at);
    return time >= from && time <= until;
  };
}

/** Whether an ops-log entry belongs in the incident's timeline: recorded under it, or about one of its clients within its window. */
export function inIncidentTimeline(incident: IncidentRecord, entry: OpsLogEntry, now: Date): boolean {
  const ofItsClients = entry.clientId !== null && incident.clients.includes(entry.clientId);
  // An entry under the incident about a client outside it (a per-client report's other clients) stays out.
  if (entry.details['incident'] === incident.id) return entry.clientId === null || ofItsClients;
  return ofItsClients && incidentWindow(incident, now)(entry.at);
}

/** The audit event of one line of an exported audit log (JSON lines); null for a blank or unreadable line. */
export function auditEventFrom(clientId: string, line: string): AuditEvent | null {
  if (line.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  return {
    clientId,
    seq: Number(record['seq']),
    timestamp: text(record['timestamp']),
    actionType: text(record['action_type']),
    actor: text(record['actor']),
    result: text(record['result']) || text(record['approval_status']),
  };
}

/** Audit events from an exported audit log (JSON lines). */
export function auditEventsFrom(clientId: string, jsonLines: string): AuditEvent[] {
  return jsonLines.split('\n').flatMap((line) => auditEventFrom(clientId, line) ?? []);
}

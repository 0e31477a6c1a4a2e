import type { IncidentRecord, IncidentSeverity } from '../../ports/incident-store.ts';

/**
 * The spec's incident clocks (security-architecture.md, Incident Response), as pure functions of an
 * incident's record and the time:
 * - response: by severity — critical 1 h, high 4 h, medium 24 h, low by the end of the next business day;
 *   met by the first response action (containment, evidence, an assessment, a confirmation);
 * - assessment: scope and severity within 4 h of opening; met by an assessment note or a confirmation;
 * - notification: the client told within 24 h of a confirmed breach; starts only at `confirm`;
 * - report: the post-incident report within 7 days of opening; met when the final report is issued.
 * Closing an incident stops the response and assessment clocks (closing is a response and an assessment).
 */

export const CLOCK_NAMES = ['response', 'assessment', 'notification', 'report'] as const;
export type ClockName = (typeof CLOCK_NAMES)[number];

/**
 * `waiting`: not started (notification before a confirmation); `running`: before its deadline;
 * `overdue`: past its deadline and still not met; `met` / `met-late`: stopped before / after the
 * deadline; `not-needed`: closed without ever starting.
 */
export type ClockState = 'waiting' | 'running' | 'overdue' | 'met' | 'met-late' | 'not-needed';

export interface IncidentClock {
  name: ClockName;
  state: ClockState;
  startedAt: string | null;
  deadline: string | null;
  stoppedAt: string | null;
  /** Seconds from now to the deadline (negative when overdue) while the clock runs; else null. */
  secondsLeft: number | null;
}

const HOUR_MS = 3_600_000;
export const ASSESSMENT_WINDOW_MS = 4 * HOUR_MS;
export const NOTIFICATION_WINDOW_MS = 24 * HOUR_MS;
export const REPORT_WINDOW_MS = 7 * 24 * HOUR_MS;
export const RESPONSE_WINDOW_MS: Readonly<Record<Exclude<IncidentSeverity, 'low'>, number>> = {
  critical: HOUR_MS,
  high: 4 * HOUR_MS,
  medium: 24 * HOUR_MS,
};

/** Where "business day" is counted (Monday to Friday); the fleet's office time zone. */
export interface ClockSettings {
  timeZone: string;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

function localDateOf(instant: Date, timeZone: string): LocalDate {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(instant);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

/** Local wall time minus UTC at an instant, in ms. */
function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instantMs));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/** The instant local midnight starts `date` in the zone (a DST shift never lands on midnight twice). */
function startOfLocalDay(date: LocalDate, timeZone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  const first = wall - zoneOffsetMs(wall, timeZone);
  const second = wall - zoneOffsetMs(first, timeZone);
  return new Date(second);
}

function addDays(date: LocalDate, days: number): LocalDate & { weekday: number } {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate(), weekday: shifted.getUTCDay() };
}

/** The end of the next business day (Monday–Friday) after `openedAt`'s local day, in `timeZone`. */
export function endOfNextBusinessDay(openedAt: Date, timeZone: string): Date {
  const today = localDateOf(openedAt, timeZone);
  let offset = 1;
  let next = addDays(today, offset);
  while (next.weekday === 0 || next.weekday === 6) next = addDays(today, ++offset);
  return startOfLocalDay(addDays(next, 1), timeZone);
}

export function responseDeadline(severity: IncidentSeverity, openedAt: Date, settings: ClockSettings): Date {
  if (severity === 'low') return endOfNextBusinessDay(openedAt, settings.timeZone);
  return new Date(openedAt.getTime() + RESPONSE_WINDOW_MS[severity]);
}

function clock(name: ClockName, startedAt: string | null, deadline: Date | null, stoppedAt: string | null, closed: boolean, now: Date): IncidentClock {
  const deadlineIso = deadline?.toISOString() ?? null;
  if (startedAt === null || deadline === null) {
    return { name, state: closed ? 'not-needed' : 'waiting', startedAt: null, deadline: null, stoppedAt: null, secondsLeft: null };
  }
  if (stoppedAt !== null) {
    const state = Date.parse(stoppedAt) <= deadline.getTime() ? 'met' : 'met-late';
    return { name, state, startedAt, deadline: deadlineIso, stoppedAt, secondsLeft: null };
  }
  const secondsLeft = Math.round((deadline.getTime() - now.getTime()) / 1000);
  return { name, state: secondsLeft > 0 ? 'running' : 'overdue', startedAt, deadline: deadlineIso, stoppedAt: null, secondsLeft };
}

type NotificationFacts = Pick<IncidentRecord, 'clients' | 'notifications' | 'confirmedAt'>;

/**
 * The notifications that tell a client of the confirmed breach: those at or after the confirmation. One
 * from before (a heads-up while it was still being assessed, or a time stated earlier than the
 * confirmation) told the client of a suspicion, not of a breach, and cannot stop the clock before it ran.
 */
export function breachNotifications(incident: NotificationFacts): IncidentRecord['notifications'] {
  const confirmed = incident.confirmedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(incident.confirmedAt);
  return incident.notifications.filter((n) => Date.parse(n.at) >= confirmed);
}

/** The incident's clients not yet told of the breach (with no client named: `null` until anyone was). */
export function untoldClients(incident: NotificationFacts): (string | null)[] {
  const told = breachNotifications(incident);
  const wanted = incident.clients.length === 0 ? [null] : incident.clients;
  return wanted.filter((client) => !told.some((n) => n.clientId === client));
}

/** When the last client of the incident was told of the breach (with no client named: anyone); null while one is not. */
export function notificationComplete(incident: NotificationFacts): string | null {
  const wanted = incident.clients.length === 0 ? [null] : incident.clients;
  const notifications = breachNotifications(incident);
  let last: string | null = null;
  for (const client of wanted) {
    const told = notifications.filter((n) => n.clientId === client).map((n) => n.at).sort()[0];
    if (told === undefined) return null;
    if (last === null || told > last) last = told;
  }
  return last;
}

function earliest(...times: (string | null)[]): string | null {
  const present = times.filter((time): time is string => time !== null).sort();
  return present[0] ?? null;
}

/** The four clocks of an incident at `now`. */
export function incidentClocks(incident: IncidentRecord, now: Date, settings: ClockSettings): IncidentClock[] {
  const opened = new Date(incident.openedAt);
  const closed = incident.closedAt !== null;
  const confirmed = incident.confirmedAt === null ? null : new Date(incident.confirmedAt);
  return [
    clock('response', incident.openedAt, responseDeadline(incident.severity, opened, settings), earliest(incident.respondedAt, incident.closedAt), closed, now),
    clock('assessment', incident.openedAt, new Date(opened.getTime() + ASSESSMENT_WINDOW_MS), earliest(incident.assessedAt, incident.closedAt), closed, now),
    clock(
      'notification',
      incident.confirmedAt,
      confirmed === null ? null : new Date(confirmed.getTime() + NOTIFICATION_WINDOW_MS),
      notificationComplete(incident),
      closed,
      now,
    ),
    clock('report', incident.openedAt, new Date(opened.getTime() + REPORT_WINDOW_MS), incident.reportIssuedAt, false, now),
  ];
}

/** One running clock as the metrics export it. */
export interface IncidentClockSample {
  incident: string;
  severity: IncidentSeverity;
  clock: ClockName;
  secondsLeft: number;
}

/** The clocks still ticking (running or overdue) of the given incidents. */
export function runningClockSamples(incidents: readonly IncidentRecord[], now: Date, settings: ClockSettings): IncidentClockSample[] {
  return incidents.flatMap((incident) =>
    incidentClocks(incident, now, settings)
      .filter((c) => c.secondsLeft !== null)
      .map((c) => ({ incident: incident.id, severity: incident.severity, clock: c.name, secondsLeft: c.secondsLeft ?? 0 })),
  );
}

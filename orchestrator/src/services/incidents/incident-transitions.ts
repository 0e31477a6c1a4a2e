import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type {
  IncidentContainmentStep,
  IncidentEvidence,
  IncidentNotification,
  IncidentRecord,
} from '../../ports/incident-store.ts';
import { notificationComplete, untoldClients } from './incident-clocks.ts';

/**
 * What each incident command does to the record, as pure functions: (record, input, now) → next record,
 * or a FleetError when the step is not allowed in the incident's state. The service runs them inside the
 * store's locked update and writes the ops-log entry after.
 */

export const NOTIFICATION_CHANNELS = ['email', 'phone', 'video-call', 'in-person', 'portal', 'letter'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/** What a notification's recipient becomes once its client's data is erased or purged. */
export const ERASED_RECIPIENT = '(erased)';

const namesRecipientOf = (notification: IncidentNotification, clientId: string): boolean =>
  notification.clientId === clientId && notification.recipient !== '' && notification.recipient !== ERASED_RECIPIENT;

/** How many of the incident's notifications name who at the client was told. */
export function recipientsOf(incident: IncidentRecord, clientId: string): number {
  return incident.notifications.filter((notification) => namesRecipientOf(notification, clientId)).length;
}

/**
 * The client's erasure or purge: its notifications keep when, how and by whom the client was told, not
 * who at the client was (a person of the client's). Not an incident event: the record is not re-stamped.
 */
export function forgetClientRecipients(incident: IncidentRecord, clientId: string): IncidentRecord {
  return {
    ...incident,
    notifications: incident.notifications.map((notification) => (namesRecipientOf(notification, clientId) ? { ...notification, recipient: ERASED_RECIPIENT } : notification)),
  };
}

/** Allowed drift of a stated notification time ahead of the orchestrator's clock. */
const CLOCK_SKEW_MS = 60_000;

/** A trimmed text of 1..max characters, or FleetError invalid_input naming the field. */
export function checkText(value: unknown, field: string, max: number): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0 || text.length > max) throw new FleetError('invalid_input', `${field} must be 1-${max} characters`);
  return text;
}

function stillOpen(incident: IncidentRecord, what: string): void {
  if (incident.status === 'closed') throw new FleetError('conflict', `${incident.id} is closed (${incident.closedAt}): it takes no more ${what}`);
}

function stamp(incident: IncidentRecord, now: Date, fields: Partial<IncidentRecord>): IncidentRecord {
  return { ...incident, ...fields, updatedAt: now.toISOString() };
}

/** The first response action stops the response clock; later ones leave it. */
function responded(incident: IncidentRecord, now: Date): Pick<IncidentRecord, 'respondedAt'> {
  return { respondedAt: incident.respondedAt ?? now.toISOString() };
}

export function addNote(incident: IncidentRecord, input: { assessment: boolean }, now: Date): IncidentRecord {
  stillOpen(incident, 'notes');
  if (!input.assessment) return stamp(incident, now, {});
  return stamp(incident, now, { ...responded(incident, now), assessedAt: incident.assessedAt ?? now.toISOString() });
}

export function confirmBreach(incident: IncidentRecord, scope: string, now: Date): IncidentRecord {
  stillOpen(incident, 'confirmation');
  if (incident.confirmedAt !== null) throw new FleetError('conflict', `${incident.id} was already confirmed at ${incident.confirmedAt}`);
  const at = now.toISOString();
  return stamp(incident, now, { ...responded(incident, now), assessedAt: incident.assessedAt ?? at, confirmedAt: at, confirmedScope: scope });
}

/** Which client a notification is about: the one named, else the incident's only client. */
export function notifiedClient(incident: IncidentRecord, clientId: string | undefined): string | null {
  if (incident.clients.length === 0) {
    if (clientId !== undefined) throw new FleetError('invalid_input', `${incident.id} names no client; leave out --client`);
    return null;
  }
  if (clientId === undefined) {
    if (incident.clients.length === 1) return incident.clients[0] ?? null;
    throw new FleetError('invalid_input', `${incident.id} concerns ${incident.clients.join(', ')}: say which was told (--client)`);
  }
  if (!incident.clients.includes(clientId)) throw new FleetError('invalid_input', `${incident.id} does not concern ${clientId}`);
  return clientId;
}

export function recordNotification(incident: IncidentRecord, notification: IncidentNotification, now: Date): IncidentRecord {
  stillOpen(incident, 'notifications');
  const at = Date.parse(notification.at);
  if (!Number.isFinite(at)) throw new FleetError('invalid_input', 'the time the client was told must be an ISO date-time');
  if (at > now.getTime() + CLOCK_SKEW_MS) throw new FleetError('invalid_input', 'the time the client was told is in the future');
  if (at < Date.parse(incident.openedAt)) throw new FleetError('invalid_input', `the time the client was told is before ${incident.id} was opened`);
  return stamp(incident, now, { notifications: [...incident.notifications, notification] });
}

/**
 * Whether the whole containment record holds: every client of the incident had a step taken, and every
 * step tried for a client held at least once (a later retry that fails does not undo one that held).
 * Judged on the record, not the last batch: containing one client of several, or a retry of only the
 * steps that held, does not make the incident contained while a client or a failed step is left.
 */
export function containmentHolds(incident: Pick<IncidentRecord, 'clients' | 'containment'>): boolean {
  if (incident.clients.length === 0) return false;
  return incident.clients.every((client) => {
    const tried = incident.containment.filter((step) => step.clientId === client);
    const steps = new Set(tried.map((step) => step.step));
    return steps.size > 0 && [...steps].every((name) => tried.some((step) => step.step === name && step.outcome === 'success'));
  });
}

/**
 * Records containment steps that ran. The service refuses to start containment of a closed incident; steps
 * that were already running when another operator closed it still happened (a client killed, a grant
 * revoked) and are recorded, without reopening or re-stamping its state.
 */
export function recordContainment(incident: IncidentRecord, steps: readonly IncidentContainmentStep[], now: Date): IncidentRecord {
  const containment = [...incident.containment, ...steps];
  if (incident.status === 'closed') return stamp(incident, now, { containment });
  const held = steps.length > 0 && containmentHolds({ clients: incident.clients, containment });
  return stamp(incident, now, {
    ...responded(incident, now),
    containment,
    ...(held ? { status: 'contained' as const, containedAt: incident.containedAt ?? now.toISOString() } : {}),
  });
}

export function recordEvidence(incident: IncidentRecord, evidence: IncidentEvidence, now: Date): IncidentRecord {
  return stamp(incident, now, { ...responded(incident, now), evidence: [...incident.evidence, evidence] });
}

/**
 * The containment steps tried for a client that never held (each failed, none succeeded), as
 * `<client> <step>`: what is still uncontained. A client never tried is not here: not every incident needs
 * containment through the fleet.
 */
export function unheldContainment(incident: Pick<IncidentRecord, 'containment'>): string[] {
  const unheld = new Set<string>();
  for (const step of incident.containment) {
    const held = incident.containment.some((other) => other.clientId === step.clientId && other.step === step.step && other.outcome === 'success');
    if (!held) unheld.add(`${step.clientId} ${step.step}`);
  }
  return [...unheld];
}

export interface Closure {
  rootCause: string;
  lessons: string;
  remediation: string | null;
}

/** Who closes an incident whose containment never held, and why that is acceptable. */
export interface ContainmentOverrideInput {
  reason: string;
  by: string;
}

/**
 * Closes the incident. One whose containment failed and never held (a client possibly still compromised)
 * closes only with an explicit override and its reason, kept in the record; an override of containment
 * that holds is moot and not recorded.
 */
export function closeIncident(incident: IncidentRecord, closure: Closure, now: Date, override?: ContainmentOverrideInput): IncidentRecord {
  stillOpen(incident, 'closing');
  const unheld = unheldContainment(incident);
  if (unheld.length > 0 && override === undefined) {
    throw new FleetError(
      'conflict',
      `${incident.id} cannot be closed: its containment failed and never held (${unheld.join(', ')}). Contain it again (fleet incident contain), or close it with --containment-override "<why closing is safe>", which is kept in its record and report`,
    );
  }
  if (incident.confirmedAt !== null && notificationComplete(incident) === null) {
    const untold = untoldClients(incident).filter((client) => client !== null);
    throw new FleetError(
      'conflict',
      `${incident.id} is a confirmed breach: record that ${untold.length > 0 ? untold.join(', ') : 'the client'} was told of it (fleet incident notify, at or after the confirmation at ${incident.confirmedAt}) before closing it`,
    );
  }
  const containmentOverride = unheld.length > 0 && override !== undefined ? { ...override, at: now.toISOString(), unheld } : null;
  return stamp(incident, now, { status: 'closed', closedAt: now.toISOString(), ...closure, ...(containmentOverride === null ? {} : { containmentOverride }) });
}

/**
 * The reports an incident owes: one to each affected client (each gets its own, of what concerns it); an
 * incident that names no client owes its one whole report (`null`).
 */
export function reportsOwed(incident: Pick<IncidentRecord, 'clients'>): (string | null)[] {
  return incident.clients.length === 0 ? [null] : [...incident.clients];
}

/**
 * Which owed report a report rendered for `client` (undefined: the whole incident's) is. The whole report of
 * an incident of several clients is none of theirs: it names them all, so it is not handed to any of them.
 */
export function reportDelivers(incident: Pick<IncidentRecord, 'clients'>, client: string | undefined): string | null | undefined {
  if (client !== undefined) return incident.clients.includes(client) ? client : undefined;
  if (incident.clients.length === 0) return null;
  return incident.clients.length === 1 ? incident.clients[0] : undefined;
}

/**
 * A report rendered after closing is final. The report clock stops when every owed report has had its final
 * one (`reported`: those delivered so far, this one included), at the first time that was so.
 */
export function issueReport(incident: IncidentRecord, now: Date, reported: readonly (string | null)[]): { incident: IncidentRecord; final: boolean } {
  if (incident.status !== 'closed') return { incident, final: false };
  if (incident.reportIssuedAt !== null || !reportsOwed(incident).every((owed) => reported.includes(owed))) return { incident, final: true };
  return { incident: stamp(incident, now, { reportIssuedAt: now.toISOString() }), final: true };
}

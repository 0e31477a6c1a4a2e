import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import { INCIDENT_SEVERITIES, type IncidentRecord, type IncidentSeverity, type IncidentStore } from '../../ports/incident-store.ts';
import type { Registry } from '../../ports/registry.ts';
import { SUPPORT_ACTIONS, type SupportGrant } from '../support-access.ts';
import { incidentClocks, type ClockSettings, type IncidentClock } from './incident-clocks.ts';
import {
  addNote,
  checkText,
  closeIncident,
  confirmBreach,
  NOTIFICATION_CHANNELS,
  notifiedClient,
  recordNotification,
  type NotificationChannel,
} from './incident-transitions.ts';

/** Ops-log actions of the incident process; every entry's details carry `incident`. */
export const INCIDENT_ACTIONS = {
  open: 'incident-open',
  note: 'incident-note',
  confirm: 'incident-confirm',
  notify: 'incident-notify',
  contain: 'incident-contain',
  evidence: 'incident-evidence',
  evidenceCopy: 'incident-evidence-copy',
  close: 'incident-close',
  report: 'incident-report',
} as const;

const INCIDENT_ID = /^INC-[1-9][0-9]{0,17}$/;
const MAX_CLIENTS = 100;

export interface IncidentView {
  incident: IncidentRecord;
  clocks: IncidentClock[];
  /** Support grants that name this incident, for each of its clients. */
  grants: Pick<SupportGrant, 'id' | 'clientId' | 'member' | 'status' | 'expiresAt'>[];
}

export interface IncidentServiceDependencies {
  store: IncidentStore;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  clocks: ClockSettings;
  /** The support grants of a client (to link an incident to the grants that name it). */
  grantsOf(clientId: string): Promise<SupportGrant[]>;
  /** Ends a support grant: closing an incident ends the access granted for it. */
  revokeGrant(input: { clientId: string; grantId: string; actor: string }): Promise<unknown>;
}

export function checkIncidentId(id: unknown): string {
  if (typeof id !== 'string' || !INCIDENT_ID.test(id)) throw new FleetError('invalid_input', 'an incident id looks like INC-7');
  return id;
}

/**
 * The incident process of the spec (Incident Response): open with its clocks, notes and the assessment,
 * confirmation of a breach, notification of the client, closing with root cause and lessons. Every step
 * changes the record in the registry and is written to the hash-chained ops log.
 */
export class IncidentService {
  private readonly deps: IncidentServiceDependencies;

  constructor(deps: IncidentServiceDependencies) {
    this.deps = deps;
  }

  async open(input: { severity: unknown; summary: unknown; clients?: readonly unknown[]; actor: string }): Promise<IncidentView> {
    if (!INCIDENT_SEVERITIES.includes(input.severity as IncidentSeverity)) {
      throw new FleetError('invalid_input', `severity must be one of ${INCIDENT_SEVERITIES.join(', ')}`);
    }
    const summary = checkText(input.summary, 'summary', 500);
    const clients = [...new Set((input.clients ?? []).map((raw) => parseClientId(raw)))];
    if (clients.length > MAX_CLIENTS) throw new FleetError('invalid_input', `an incident names at most ${MAX_CLIENTS} clients`);
    for (const client of clients) {
      if (!(await this.deps.registry.getClient(client))) throw new FleetError('not_found', `no client "${client}" in the registry`);
    }
    const now = this.deps.clock.now();
    const incident = await this.deps.store.create({
      severity: input.severity as IncidentSeverity,
      summary,
      clients,
      openedAt: now.toISOString(),
      openedBy: input.actor,
    });
    const clocks = incidentClocks(incident, now, this.deps.clocks);
    const deadlines = Object.fromEntries(clocks.filter((c) => c.deadline !== null).map((c) => [c.name, c.deadline]));
    await this.log(incident, INCIDENT_ACTIONS.open, input.actor, summary, { severity: incident.severity, clients, deadlines });
    this.deps.logger.warn('incident opened', { incident: incident.id, severity: incident.severity, clients });
    return this.view(incident);
  }

  async note(input: { id: unknown; text: unknown; assessment?: boolean; actor: string }): Promise<IncidentView> {
    const text = checkText(input.text, 'the note', 4000);
    const assessment = input.assessment === true;
    const incident = await this.change(input.id, (current, now) => addNote(current, { assessment }, now));
    await this.log(incident, INCIDENT_ACTIONS.note, input.actor, text, { assessment });
    return this.view(incident);
  }

  /** A confirmed breach: the 24-hour client notification clock starts now. */
  async confirm(input: { id: unknown; scope: unknown; actor: string }): Promise<IncidentView> {
    const scope = checkText(input.scope, 'the scope of the breach', 2000);
    const incident = await this.change(input.id, (current, now) => confirmBreach(current, scope, now));
    await this.log(incident, INCIDENT_ACTIONS.confirm, input.actor, scope, { confirmedAt: incident.confirmedAt });
    this.deps.logger.warn('breach confirmed', { incident: incident.id, clients: incident.clients });
    return this.view(incident);
  }

  /** Records that (and when, by whom, how) a client was told. */
  async notify(input: {
    id: unknown;
    clientId?: string | undefined;
    at?: string | undefined;
    by?: string | undefined;
    channel: unknown;
    recipient?: string | undefined;
    actor: string;
  }): Promise<IncidentView> {
    if (!NOTIFICATION_CHANNELS.includes(input.channel as NotificationChannel)) {
      throw new FleetError('invalid_input', `channel must be one of ${NOTIFICATION_CHANNELS.join(', ')}`);
    }
    const by = input.by === undefined ? input.actor : checkText(input.by, 'who told the client', 200);
    const recipient = input.recipient === undefined ? '' : checkText(input.recipient, 'the recipient', 300);
    if (input.at !== undefined && !Number.isFinite(Date.parse(input.at))) {
      throw new FleetError('invalid_input', 'the time the client was told must be an ISO date-time');
    }
    let told: string | null = null;
    const incident = await this.change(input.id, (current, now) => {
      told = notifiedClient(current, input.clientId);
      const notification = {
        clientId: told,
        at: input.at === undefined ? now.toISOString() : new Date(input.at).toISOString(),
        by,
        channel: input.channel as NotificationChannel,
        recipient,
        recordedAt: now.toISOString(),
        recordedBy: input.actor,
      };
      return recordNotification(current, notification, now);
    });
    const last = incident.notifications.at(-1);
    await this.log(incident, INCIDENT_ACTIONS.notify, input.actor, null, { ...last }, told);
    return this.view(incident);
  }

  /**
   * Ends the access granted for the incident, then closes it. The grants go first, once the closing is known
   * to be allowed: a revocation that fails leaves the incident open (close again), never closed with live
   * grants and no `incident-close` entry in the ops log.
   */
  async close(input: {
    id: unknown;
    rootCause: unknown;
    lessons: unknown;
    remediation?: unknown;
    /** Why closing is safe although containment failed and never held; needed only then. */
    containmentOverride?: unknown;
    actor: string;
  }): Promise<IncidentView> {
    const closure = {
      rootCause: checkText(input.rootCause, 'the root cause', 4000),
      lessons: checkText(input.lessons, 'the lessons learned', 4000),
      remediation: input.remediation === undefined ? null : checkText(input.remediation, 'the remediation', 4000),
    };
    const override =
      input.containmentOverride === undefined ? undefined : { reason: checkText(input.containmentOverride, 'the reason for the containment override', 1000), by: input.actor };
    const current = await this.require(input.id);
    closeIncident(current, closure, this.deps.clock.now(), override);
    const revokedGrants: string[] = [];
    for (const grant of (await this.view(current)).grants.filter((g) => g.status === 'pending' || g.status === 'active')) {
      await this.deps.revokeGrant({ clientId: grant.clientId, grantId: grant.id, actor: input.actor });
      revokedGrants.push(grant.id);
    }
    const incident = await this.change(current.id, (latest, now) => closeIncident(latest, closure, now, override));
    const overridden = incident.containmentOverride ? { containmentOverride: { reason: incident.containmentOverride.reason, unheld: incident.containmentOverride.unheld } } : {};
    await this.log(incident, INCIDENT_ACTIONS.close, input.actor, closure.rootCause, { lessons: closure.lessons, remediation: closure.remediation, revokedGrants, ...overridden });
    this.deps.logger.info('incident closed', { incident: incident.id });
    return this.view(incident);
  }

  async get(rawId: unknown): Promise<IncidentView> {
    return this.view(await this.require(rawId));
  }

  async list(filter: { openOnly?: boolean } = {}): Promise<IncidentView[]> {
    const incidents = await this.deps.store.list(filter);
    return Promise.all(incidents.map((incident) => this.view(incident)));
  }

  /**
   * The link of a support grant to its incident. Once this fleet tracks incidents, a grant must name an
   * open incident that concerns the client; before the first incident, grants name outside tickets.
   */
  async checkSupportLink(incidentId: string, clientId: string): Promise<void> {
    if (!(await this.deps.store.anyOpened())) return;
    const incident = INCIDENT_ID.test(incidentId) ? await this.deps.store.get(incidentId) : null;
    if (incident === null) throw new FleetError('not_found', `no incident ${incidentId}: support access is granted for an open incident (fleet incident list)`);
    if (incident.status === 'closed') throw new FleetError('conflict', `${incident.id} is closed: support access needs an open incident`);
    if (incident.clients.length > 0 && !incident.clients.includes(clientId)) {
      throw new FleetError('conflict', `${incident.id} does not concern ${clientId} (it names ${incident.clients.join(', ')})`);
    }
  }

  async require(rawId: unknown): Promise<IncidentRecord> {
    const id = checkIncidentId(rawId);
    const incident = await this.deps.store.get(id);
    if (!incident) throw new FleetError('not_found', `no incident ${id}`);
    return incident;
  }

  /** Applies a transition under the store's lock, with the time it happens. */
  async change(rawId: unknown, transition: (current: IncidentRecord, now: Date) => IncidentRecord): Promise<IncidentRecord> {
    const id = checkIncidentId(rawId);
    return this.deps.store.update(id, (current) => transition(current, this.deps.clock.now()));
  }

  /** One ops-log entry of the incident: under its only client, or the one named, or the fleet's. */
  async log(
    incident: IncidentRecord,
    action: string,
    actor: string,
    reason: string | null,
    details: Record<string, unknown>,
    clientId: string | null = incident.clients.length === 1 ? (incident.clients[0] ?? null) : null,
    outcome = 'success',
  ): Promise<void> {
    await this.deps.registry.appendOpsLog({
      at: this.deps.clock.now().toISOString(),
      actor,
      action,
      clientId,
      reason,
      outcome,
      details: { incident: incident.id, ...details },
    });
  }

  async view(incident: IncidentRecord): Promise<IncidentView> {
    const grants: IncidentView['grants'] = [];
    for (const client of await this.clientsWithGrants(incident)) {
      for (const grant of (await this.deps.grantsOf(client)).filter((g) => g.incident === incident.id)) {
        grants.push({ id: grant.id, clientId: grant.clientId, member: grant.member, status: grant.status, expiresAt: grant.expiresAt });
      }
    }
    return { incident, clocks: incidentClocks(incident, this.deps.clock.now(), this.deps.clocks), grants };
  }

  /**
   * The clients whose support grants can name the incident: its own, or for an incident that names no
   * client (which covers any client, checkSupportLink), those a support request for it was logged under.
   */
  private async clientsWithGrants(incident: IncidentRecord): Promise<string[]> {
    if (incident.clients.length > 0) return incident.clients;
    const requests = await this.deps.registry.listOpsLog({ actions: [SUPPORT_ACTIONS.request] });
    const clients = requests.filter((entry) => entry.details['incident'] === incident.id).map((entry) => entry.clientId);
    return [...new Set(clients.filter((client): client is string => client !== null))];
  }
}

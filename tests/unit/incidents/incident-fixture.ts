import type { IncidentNotification, IncidentRecord } from '../../../orchestrator/src/ports/incident-store.ts';

const HOUR = 3_600_000;
/** Wednesday 2026-12-02, 10:00 UTC. */
export const OPENED = new Date('2026-12-02T10:00:00.000Z');
/** `hours` after the incident opened. */
export const at = (hours: number) => new Date(OPENED.getTime() + hours * HOUR);

/** An open critical incident of acme, opened at OPENED, with the given fields changed. */
export function incident(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id: 'INC-1',
    severity: 'critical',
    summary: 'unexpected sends',
    clients: ['acme'],
    openedAt: OPENED.toISOString(),
    openedBy: 'ops@host',
    ...nothingDoneYet(),
    updatedAt: OPENED.toISOString(),
    ...overrides,
  };
}

/** That jake told `clientId` by phone `hours` after the opening, recorded by ops@host `recordedHours` after it. */
export function phoneNotification(clientId: string | null, recipient: string, hours: number, recordedHours = hours): IncidentNotification {
  return {
    clientId,
    at: at(hours).toISOString(),
    by: 'jake',
    channel: 'phone',
    recipient,
    recordedAt: at(recordedHours).toISOString(),
    recordedBy: 'ops@host',
  };
}

/** The fields of an incident just opened: open, no step of the response taken yet. */
export function nothingDoneYet(): Omit<IncidentRecord, 'id' | 'severity' | 'summary' | 'clients' | 'openedAt' | 'openedBy' | 'updatedAt'> {
  return {
    status: 'open',
    respondedAt: null,
    assessedAt: null,
    confirmedAt: null,
    confirmedScope: null,
    containedAt: null,
    closedAt: null,
    reportIssuedAt: null,
    rootCause: null,
    lessons: null,
    remediation: null,
    notifications: [],
    containment: [],
    evidence: [],
  };
}

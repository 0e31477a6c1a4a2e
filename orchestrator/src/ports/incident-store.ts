/** How bad an incident is; the spec's response time follows from it. */
export const INCIDENT_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/**
 * An incident's lifecycle: `open` from detection, `contained` once every chosen containment step held,
 * `closed` when remediation is done and the root cause and lessons are written down. Confirmation of a
 * breach is a fact beside the status (`confirmedAt`), not a status of its own.
 */
export type IncidentStatus = 'open' | 'contained' | 'closed';

/** The containment steps the fleet can run for an affected client. */
export type ContainmentStepName = 'rotate' | 'revoke-oauth' | 'kill';

/** That (and when, by whom, how) an affected client was told of a confirmed breach. */
export interface IncidentNotification {
  /** The client told; null for an incident that names no client. */
  clientId: string | null;
  /** When the client was told (may be before it was recorded). */
  at: string;
  /** The team member who told them. */
  by: string;
  /** How: email, phone, video-call, in-person, portal or letter. */
  channel: string;
  /** Who at the client was told (a name or an address); empty when not given. */
  recipient: string;
  recordedAt: string;
  recordedBy: string;
}

export interface IncidentContainmentStep {
  clientId: string;
  step: ContainmentStepName;
  at: string;
  by: string;
  outcome: 'success' | 'failed';
  /** What happened, one line (tokens revoked, container stopped, the error). */
  detail: string;
}

/** A sealed evidence bundle: an export-format archive on the orchestrator's disk. */
export interface IncidentEvidence {
  clientId: string;
  file: string;
  /** SHA-256 of the whole file kept (encrypted at rest). */
  sha256: string;
  /** SHA-256 of the signed archive inside, what `fleet incident evidence-copy` hands out; absent on bundles sealed before encryption (the file is the archive). */
  archiveSha256?: string;
  bytes: number;
  signingKeyId: string;
  at: string;
  by: string;
}

/**
 * Why an incident was closed although a containment step tried for a client never held (a kill that did not
 * stop the container, a rotation that failed): the operator's stated reason, who gave it and when.
 */
export interface ContainmentOverride {
  reason: string;
  by: string;
  at: string;
  /** The steps that never held when it was closed, as `<client> <step>`. */
  unheld: string[];
}

export interface IncidentRecord {
  /** INC-<n>, numbered by the registry. */
  id: string;
  severity: IncidentSeverity;
  summary: string;
  /** The affected clients (may be empty for a fleet-wide incident). */
  clients: string[];
  status: IncidentStatus;
  openedAt: string;
  openedBy: string;
  /** First response action (containment, evidence, an assessment or a confirmation). */
  respondedAt: string | null;
  /** Scope and severity determined (an assessment note, or a confirmation). */
  assessedAt: string | null;
  /** A breach was confirmed: the client notification clock starts. */
  confirmedAt: string | null;
  /** What the confirmation said was affected. */
  confirmedScope: string | null;
  containedAt: string | null;
  closedAt: string | null;
  /** When the final post-incident report was issued (only after closing). */
  reportIssuedAt: string | null;
  rootCause: string | null;
  lessons: string | null;
  remediation: string | null;
  /** Set when it was closed with containment that failed and never held; absent or null otherwise. */
  containmentOverride?: ContainmentOverride | null;
  notifications: IncidentNotification[];
  containment: IncidentContainmentStep[];
  evidence: IncidentEvidence[];
  updatedAt: string;
}

export interface NewIncident {
  severity: IncidentSeverity;
  summary: string;
  clients: string[];
  openedAt: string;
  openedBy: string;
}

export interface IncidentListFilter {
  openOnly?: boolean;
  clocksMayRun?: boolean;
}

/** Incidents in the registry database. Their history is in the ops log; this holds their current state. */
export interface IncidentStore {
  /** Stores a new open incident under the next number (INC-1, INC-2, …). */
  create(incident: NewIncident): Promise<IncidentRecord>;
  get(id: string): Promise<IncidentRecord | null>;
  /**
   * Newest first; `openOnly` leaves out closed incidents; `clocksMayRun` leaves out those closed with their
   * final report issued (no clock of theirs can run again), so that what is read stays bounded as incidents
   * accumulate.
   */
  list(filter?: IncidentListFilter): Promise<IncidentRecord[]>;
  /**
   * Reads the incident under a row lock, applies `change` and stores what it returns, in one transaction.
   * `change` may throw (a FleetError) to refuse, and then nothing is stored. FleetError `not_found` when
   * there is no such incident.
   */
  update(id: string, change: (current: IncidentRecord) => IncidentRecord): Promise<IncidentRecord>;
  /** True once any incident has been opened in this fleet. */
  anyOpened(): Promise<boolean>;
}

import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { IncidentListFilter, IncidentRecord, IncidentStore, NewIncident } from '../../ports/incident-store.ts';
import { SEALED_PREFIX, type RegistrySealer, type SealedIncidentField } from './registry-sealer.ts';
import type { SqlExecutor } from './sql-executor.ts';

type Timestamp = Date | string;

type IncidentRow = {
  id: string;
  severity: string;
  summary: string;
  clients: unknown;
  status: string;
  opened_at: Timestamp;
  opened_by: string;
  responded_at: Timestamp | null;
  assessed_at: Timestamp | null;
  confirmed_at: Timestamp | null;
  confirmed_scope: string | null;
  contained_at: Timestamp | null;
  closed_at: Timestamp | null;
  report_issued_at: Timestamp | null;
  root_cause: string | null;
  lessons: string | null;
  remediation: string | null;
  notifications: unknown;
  containment: unknown;
  containment_override: unknown;
  evidence: unknown;
  updated_at: Timestamp;
};

function iso(value: Timestamp): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function isoOrNull(value: Timestamp | null): string | null {
  return value === null ? null : iso(value);
}

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

const SEALED_TEXT_FIELDS = ['summary', 'confirmed_scope', 'root_cause', 'lessons', 'remediation'] as const;
const SEALED_JSON_FIELDS = ['notifications', 'containment', 'containment_override'] as const;

/** An incident's row with its sealed columns opened (values written before sealing read as they are). */
function openedRow(row: IncidentRow, sealer: RegistrySealer): IncidentRow {
  const opened = { ...row };
  for (const field of SEALED_TEXT_FIELDS) {
    const stored = row[field];
    if (stored !== null) opened[field] = sealer.openIncidentField(row.id, field, stored);
  }
  for (const field of SEALED_JSON_FIELDS) {
    // A sealed JSON column holds a JSON string (the drivers hand it back decoded); one written before, an array.
    const stored = row[field];
    if (typeof stored === 'string' && sealer.isSealed(stored)) opened[field] = sealer.openIncidentField(row.id, field, stored);
  }
  return opened;
}

/** The stored form of a sealed column: the sealed text, or for a JSON column that text as a JSON string. */
function sealedColumn(sealer: RegistrySealer, incidentId: string, field: SealedIncidentField, value: unknown): string | null {
  if (value === null) return null;
  if ((SEALED_JSON_FIELDS as readonly string[]).includes(field)) return JSON.stringify(sealer.sealIncidentField(incidentId, field, JSON.stringify(value)));
  return sealer.sealIncidentField(incidentId, field, value as string);
}

function toRecord(sealedRow: IncidentRow, sealer: RegistrySealer): IncidentRecord {
  const row = openedRow(sealedRow, sealer);
  return {
    id: row.id,
    severity: row.severity as IncidentRecord['severity'],
    summary: row.summary,
    clients: json<string[]>(row.clients),
    status: row.status as IncidentRecord['status'],
    openedAt: iso(row.opened_at),
    openedBy: row.opened_by,
    respondedAt: isoOrNull(row.responded_at),
    assessedAt: isoOrNull(row.assessed_at),
    confirmedAt: isoOrNull(row.confirmed_at),
    confirmedScope: row.confirmed_scope,
    containedAt: isoOrNull(row.contained_at),
    closedAt: isoOrNull(row.closed_at),
    reportIssuedAt: isoOrNull(row.report_issued_at),
    rootCause: row.root_cause,
    lessons: row.lessons,
    remediation: row.remediation,
    notifications: json<IncidentRecord['notifications']>(row.notifications),
    containment: json<IncidentRecord['containment']>(row.containment),
    containmentOverride: row.containment_override === null || row.containment_override === undefined ? null : json<NonNullable<IncidentRecord['containmentOverride']>>(row.containment_override),
    evidence: json<IncidentRecord['evidence']>(row.evidence),
    updatedAt: iso(row.updated_at),
  };
}

/** The WHERE clause of a list (fixed text, no input in it). */
export function listCondition(filter: IncidentListFilter): string {
  if (filter.openOnly === true) return " WHERE status <> 'closed'";
  if (filter.clocksMayRun === true) return " WHERE status <> 'closed' OR report_issued_at IS NULL";
  return '';
}

/**
 * Incidents in the registry database (PostgreSQL or PGlite), the table of the incidents migration. Their
 * free text (summary, scope, root cause, lessons, remediation) and their notifications and containment
 * steps (whom at a client they told, what happened) are sealed by `sealer` before they reach the database.
 */
export class SqlIncidentStore implements IncidentStore {
  private readonly sql: SqlExecutor;
  private readonly sealer: RegistrySealer;

  constructor(sql: SqlExecutor, sealer: RegistrySealer) {
    this.sql = sql;
    this.sealer = sealer;
  }

  async create(incident: NewIncident): Promise<IncidentRecord> {
    // The number first: the incident's id is part of what its sealed summary is bound to.
    const [next] = await this.sql.query<{ n: number | string }>("SELECT nextval('incident_numbers') AS n");
    const number = Number(next?.n);
    const id = `INC-${number}`;
    const [row] = await this.sql.query<IncidentRow>(
      `INSERT INTO incidents (id, number, severity, summary, clients, status, opened_at, opened_by, notifications, containment, updated_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, 'open', $6::timestamptz, $7, $8::jsonb, $9::jsonb, $6::timestamptz)
       RETURNING *`,
      [
        id,
        number,
        incident.severity,
        sealedColumn(this.sealer, id, 'summary', incident.summary),
        JSON.stringify(incident.clients),
        incident.openedAt,
        incident.openedBy,
        sealedColumn(this.sealer, id, 'notifications', []),
        sealedColumn(this.sealer, id, 'containment', []),
      ],
    );
    if (!row) throw new FleetError('internal', 'the registry did not return the new incident');
    return toRecord(row, this.sealer);
  }

  async get(id: string): Promise<IncidentRecord | null> {
    const [row] = await this.sql.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
    return row ? toRecord(row, this.sealer) : null;
  }

  async list(filter: IncidentListFilter = {}): Promise<IncidentRecord[]> {
    const rows = await this.sql.query<IncidentRow>(`SELECT * FROM incidents${listCondition(filter)} ORDER BY number DESC`);
    return rows.map((row) => toRecord(row, this.sealer));
  }

  /** Seals the incidents an earlier release wrote in plaintext; returns how many (the caller rewrites the table). */
  async sealPlaintext(): Promise<number> {
    return this.sql.transaction(async (tx) => {
      // Runs at every start: only rows with a plaintext summary are read (every row has one; none once sealed).
      const rows = await tx.query<IncidentRow>('SELECT * FROM incidents WHERE NOT starts_with(summary, $1) FOR UPDATE', [SEALED_PREFIX]);
      for (const row of rows) await this.write(tx, row.id, toRecord(row, this.sealer));
      return rows.length;
    });
  }

  async update(id: string, change: (current: IncidentRecord) => IncidentRecord): Promise<IncidentRecord> {
    return this.sql.transaction(async (tx) => {
      const [row] = await tx.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1 FOR UPDATE', [id]);
      if (!row) throw new FleetError('not_found', `no incident ${id}`);
      const stored = await this.write(tx, id, change(toRecord(row, this.sealer)));
      if (!stored) throw new FleetError('internal', `incident ${id} vanished during an update`);
      return toRecord(stored, this.sealer);
    });
  }

  private async write(tx: Pick<SqlExecutor, 'query'>, id: string, next: IncidentRecord): Promise<IncidentRow | undefined> {
    const sealed = (field: SealedIncidentField, value: unknown) => sealedColumn(this.sealer, id, field, value);
    const [stored] = await tx.query<IncidentRow>(
      `UPDATE incidents SET summary = $2, status = $3, responded_at = $4::timestamptz, assessed_at = $5::timestamptz,
              confirmed_at = $6::timestamptz, confirmed_scope = $7, contained_at = $8::timestamptz,
              closed_at = $9::timestamptz, report_issued_at = $10::timestamptz, root_cause = $11, lessons = $12,
              remediation = $13, notifications = $14::jsonb, containment = $15::jsonb, evidence = $16::jsonb,
              updated_at = $17::timestamptz, containment_override = $18::jsonb
        WHERE id = $1 RETURNING *`,
      [
        id,
        sealed('summary', next.summary),
        next.status,
        next.respondedAt,
        next.assessedAt,
        next.confirmedAt,
        sealed('confirmed_scope', next.confirmedScope),
        next.containedAt,
        next.closedAt,
        next.reportIssuedAt,
        sealed('root_cause', next.rootCause),
        sealed('lessons', next.lessons),
        sealed('remediation', next.remediation),
        sealed('notifications', next.notifications),
        sealed('containment', next.containment),
        JSON.stringify(next.evidence),
        next.updatedAt,
        sealed('containment_override', next.containmentOverride ?? null),
      ],
    );
    return stored;
  }

  async anyOpened(): Promise<boolean> {
    return (await this.sql.query('SELECT 1 FROM incidents LIMIT 1')).length === 1;
  }
}

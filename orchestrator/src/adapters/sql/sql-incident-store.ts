import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { IncidentRecord, IncidentStore, NewIncident } from '../../ports/incident-store.ts';
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

function toRecord(row: IncidentRow): IncidentRecord {
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
    evidence: json<IncidentRecord['evidence']>(row.evidence),
    updatedAt: iso(row.updated_at),
  };
}

/** Incidents in the registry database (PostgreSQL or PGlite), the table of the incidents migration. */
export class SqlIncidentStore implements IncidentStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async create(incident: NewIncident): Promise<IncidentRecord> {
    const [row] = await this.sql.query<IncidentRow>(
      `INSERT INTO incidents (id, number, severity, summary, clients, status, opened_at, opened_by, updated_at)
       SELECT 'INC-' || n, n, $1, $2, $3::jsonb, 'open', $4::timestamptz, $5, $4::timestamptz
         FROM (SELECT nextval('incident_numbers') AS n) AS next
       RETURNING *`,
      [incident.severity, incident.summary, JSON.stringify(incident.clients), incident.openedAt, incident.openedBy],
    );
    if (!row) throw new FleetError('internal', 'the registry did not return the new incident');
    return toRecord(row);
  }

  async get(id: string): Promise<IncidentRecord | null> {
    const [row] = await this.sql.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
    return row ? toRecord(row) : null;
  }

  async list(filter: { openOnly?: boolean } = {}): Promise<IncidentRecord[]> {
    const rows = filter.openOnly
      ? await this.sql.query<IncidentRow>("SELECT * FROM incidents WHERE status <> 'closed' ORDER BY number DESC")
      : await this.sql.query<IncidentRow>('SELECT * FROM incidents ORDER BY number DESC');
    return rows.map(toRecord);
  }

  async update(id: string, change: (current: IncidentRecord) => IncidentRecord): Promise<IncidentRecord> {
    return this.sql.transaction(async (tx) => {
      const [row] = await tx.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1 FOR UPDATE', [id]);
      if (!row) throw new FleetError('not_found', `no incident ${id}`);
      const next = change(toRecord(row));
      const [stored] = await tx.query<IncidentRow>(
        `UPDATE incidents SET status = $2, responded_at = $3::timestamptz, assessed_at = $4::timestamptz,
                confirmed_at = $5::timestamptz, confirmed_scope = $6, contained_at = $7::timestamptz,
                closed_at = $8::timestamptz, report_issued_at = $9::timestamptz, root_cause = $10, lessons = $11,
                remediation = $12, notifications = $13::jsonb, containment = $14::jsonb, evidence = $15::jsonb,
                updated_at = $16::timestamptz
          WHERE id = $1 RETURNING *`,
        [
          id,
          next.status,
          next.respondedAt,
          next.assessedAt,
          next.confirmedAt,
          next.confirmedScope,
          next.containedAt,
          next.closedAt,
          next.reportIssuedAt,
          next.rootCause,
          next.lessons,
          next.remediation,
          JSON.stringify(next.notifications),
          JSON.stringify(next.containment),
          JSON.stringify(next.evidence),
          next.updatedAt,
        ],
      );
      if (!stored) throw new FleetError('internal', `incident ${id} vanished during an update`);
      return toRecord(stored);
    });
  }

  async anyOpened(): Promise<boolean> {
    return (await this.sql.query('SELECT 1 FROM incidents LIMIT 1')).length === 1;
  }
}

import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { OnboardingReport } from '../../domain/onboarding-checklist.ts';
import type { OnboardingCheckStore } from '../../ports/onboarding-probes.ts';
import type { SqlExecutor } from './sql-executor.ts';
import { isoOf } from './sql-portal-sessions.ts';

type CheckRow = {
  client_id: string;
  checked_at: Date | string;
  checked_by: string;
  open_required: number;
  open_total: number;
  items: unknown;
};

function toReport(row: CheckRow): OnboardingReport {
  const items = (
    typeof row.items === 'string' ? JSON.parse(row.items) : row.items
  ) as OnboardingReport['items'];
  return {
    clientId: row.client_id,
    checkedAt: isoOf(row.checked_at),
    checkedBy: row.checked_by,
    items,
    open: { required: Number(row.open_required), total: Number(row.open_total) },
  };
}

/** The last onboarding check of each client, in the registry database. */
export class SqlOnboardingStore implements OnboardingCheckStore {
  private readonly sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.sql = sql;
  }

  async save(report: OnboardingReport): Promise<void> {
    await this.sql.query(
      `INSERT INTO onboarding_checks (client_id, checked_at, checked_by, open_required, open_total, items)
       VALUES ($1, $2::timestamptz, $3, $4, $5, $6::jsonb)
       ON CONFLICT (client_id) DO UPDATE SET checked_at = $2::timestamptz, checked_by = $3, open_required = $4, open_total = $5, items = $6::jsonb`,
      [
        report.clientId,
        report.checkedAt,
        report.checkedBy,
        report.open.required,
        report.open.total,
        JSON.stringify(report.items),
      ],
    );
  }

  async latest(): Promise<OnboardingReport[]> {
    return (await this.sql.query<CheckRow>('SELECT * FROM onboarding_checks ORDER BY client_id', [])).map(
      toReport,
    );
  }

  async latestOf(clientId: ClientId): Promise<OnboardingReport | null> {
    const [row] = await this.sql.query<CheckRow>('SELECT * FROM onboarding_checks WHERE client_id = $1', [
      clientId,
    ]);
    return row ? toReport(row) : null;
  }
}

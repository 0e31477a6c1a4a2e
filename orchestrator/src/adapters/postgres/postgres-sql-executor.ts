import pg from 'pg';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { quotedIdentifier, type SqlExecutor } from '../sql/sql-executor.ts';

type Queryable = pg.Pool | pg.PoolClient;

function executorFor(target: Queryable, pool: pg.Pool): SqlExecutor {
  return {
    async query<Row>(sql: string, params?: unknown[]): Promise<Row[]> {
      const result = await target.query(sql, params && params.length > 0 ? params : undefined);
      // A multi-statement query returns one result per statement.
      const last = Array.isArray(result) ? result.at(-1) : result;
      return (last?.rows ?? []) as Row[];
    },
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      if (target !== pool) return work(executorFor(target, pool));
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(executorFor(client, pool));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async reclaim(tables: readonly string[]): Promise<{ writeAheadLog: boolean }> {
      if (target !== pool) throw new FleetError('internal', 'reclaim runs outside a transaction');
      for (const table of tables) await pool.query(`VACUUM FULL ${quotedIdentifier(table)}`);
      // A server of its own: its write-ahead log, replicas and backups are its operator's to age out.
      return { writeAheadLog: false };
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}

/** PostgreSQL through node-postgres, selected by DATABASE_URL. */
export function openPostgresExecutor(databaseUrl: string): SqlExecutor {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  return executorFor(pool, pool);
}

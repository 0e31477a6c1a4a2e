import pg from 'pg';
import type { SqlExecutor } from '../sql/sql-executor.ts';

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

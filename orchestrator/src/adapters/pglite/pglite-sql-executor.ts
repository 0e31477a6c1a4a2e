import { PGlite, type Transaction } from '@electric-sql/pglite';
import { mkdir } from 'node:fs/promises';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { quotedIdentifier, type SqlExecutor } from '../sql/sql-executor.ts';

type Queryable = Pick<PGlite, 'query' | 'exec'> | Transaction;

function executorFor(target: Queryable, root: PGlite): SqlExecutor {
  return {
    async query<Row>(sql: string, params?: unknown[]): Promise<Row[]> {
      if (params && params.length > 0) return (await target.query<Row>(sql, params)).rows;
      // Parameterless statements may hold several commands (migrations): use the simple protocol.
      const results = await target.exec(sql);
      return (results.at(-1)?.rows ?? []) as Row[];
    },
    transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      if (target !== root) return work(executorFor(target, root));
      return root.transaction((tx) => work(executorFor(tx, root)));
    },
    async reclaim(tables: readonly string[]): Promise<{ writeAheadLog: boolean }> {
      if (target !== root) throw new FleetError('internal', 'reclaim runs outside a transaction');
      for (const table of tables) await root.exec(`VACUUM FULL ${quotedIdentifier(table)}`);
      // The deleted rows are still in the write-ahead log: a checkpoint, a switch to a new segment and a second
      // checkpoint leave the old segments unneeded, and without recycling they are removed, not renamed for reuse.
      await root.exec('SET wal_recycle = off');
      try {
        for (const statement of ['CHECKPOINT', 'SELECT pg_switch_wal()', 'CHECKPOINT']) await root.exec(statement);
      } finally {
        await root.exec('RESET wal_recycle');
      }
      return { writeAheadLog: true };
    },
    async close(): Promise<void> {
      await root.close();
    },
  };
}

/** The embedded default: PostgreSQL compiled to WebAssembly, persisted in a directory, one process. */
export async function openPgliteExecutor(dataDir: string): Promise<SqlExecutor> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create(dataDir);
  return executorFor(db, db);
}

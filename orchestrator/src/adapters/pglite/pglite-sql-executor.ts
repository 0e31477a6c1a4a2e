import { PGlite, type Transaction } from '@electric-sql/pglite';
import { mkdir } from 'node:fs/promises';
import type { SqlExecutor } from '../sql/sql-executor.ts';

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

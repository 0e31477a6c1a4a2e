import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** The little SQL surface the registry needs, implemented over PGlite and over node-postgres. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs `work` in one transaction; the executor passed to it must be used for every statement. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Rewrites `tables` (VACUUM FULL, outside any transaction) so that rows deleted from them are gone from the
   * database's files; where the database is this process's own (PGlite), also moves the write-ahead log past
   * them and removes the segments that held them. `writeAheadLog` says whether it did.
   */
  reclaim(tables: readonly string[]): Promise<{ writeAheadLog: boolean }>;
  close(): Promise<void>;
}

/** A table name as an SQL identifier: only the plain names of this schema are accepted. */
export function quotedIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new FleetError('internal', `not a plain table name: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

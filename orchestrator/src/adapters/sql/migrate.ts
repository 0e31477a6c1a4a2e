import type { SqlExecutor } from './sql-executor.ts';
import { MIGRATIONS } from './migrations.ts';

/** Applies pending migrations; safe to run from several processes at once on PostgreSQL. */
export async function migrate(executor: SqlExecutor): Promise<number[]> {
  return executor.transaction(async (tx) => {
    // Serialises concurrent migrators on PostgreSQL; PGlite has a single connection anyway.
    await tx.query('SELECT pg_advisory_xact_lock(727261)');
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const applied = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => Number(row.version)),
    );
    const newlyApplied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      newlyApplied.push(migration.version);
    }
    return newlyApplied;
  });
}

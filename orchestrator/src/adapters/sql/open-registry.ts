import path from 'node:path';
import type { Registry } from '../../ports/registry.ts';
import { openPgliteExecutor } from '../pglite/pglite-sql-executor.ts';
import { openPostgresExecutor } from '../postgres/postgres-sql-executor.ts';
import { migrate } from './migrate.ts';
import { SqlRegistry } from './sql-registry.ts';

/** PostgreSQL when a URL is given, otherwise PGlite under the fleet's home directory; migrated. */
export async function openRegistry(options: { databaseUrl?: string | undefined; homeDir: string }): Promise<Registry> {
  const executor = options.databaseUrl
    ? openPostgresExecutor(options.databaseUrl)
    : await openPgliteExecutor(path.join(options.homeDir, 'registry'));
  await migrate(executor);
  return new SqlRegistry(executor);
}

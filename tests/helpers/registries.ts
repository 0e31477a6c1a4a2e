import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPgliteExecutor } from '../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { openPostgresExecutor } from '../../orchestrator/src/adapters/postgres/postgres-sql-executor.ts';
import { opsLogHeadFile, registryOn } from '../../orchestrator/src/adapters/sql/open-registry.ts';
import type { SqlExecutor } from '../../orchestrator/src/adapters/sql/sql-executor.ts';
import type { Registry } from '../../orchestrator/src/ports/registry.ts';

/** PostgreSQL for tests: `make test` starts the server and creates this database (peer auth, no password). */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? `postgresql://${os.userInfo().username}@localhost/fleet_test?host=/var/run/postgresql`;

export interface OpenedRegistry {
  registry: Registry;
  /** Empties every table, so tests sharing one backend start clean. */
  reset(): Promise<void>;
  /** The database's own files (PGlite), or null for a server's. */
  dataDir: string | null;
  /** The database itself, for what a test reads below the registry (the stored form of a row). */
  sql: SqlExecutor;
  close(): Promise<void>;
}

export interface RegistryBackend {
  name: 'pglite' | 'postgres';
  open(): Promise<OpenedRegistry>;
}

const RESET_SQL = 'TRUNCATE clients, ops_log, audit_checkpoints';

/** Empties the tables, and the ops log's head checkpoint with them (it would stand for the entries just removed). */
async function resetRegistry(executor: SqlExecutor, homeDir: string): Promise<void> {
  await executor.query(RESET_SQL);
  await rm(opsLogHeadFile(homeDir), { force: true });
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Each registry backend: tests that touch the registry run once per backend. */
export const registryBackends: RegistryBackend[] = [
  {
    name: 'pglite',
    async open() {
      const homeDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-registry-'));
      const { registry, executor } = await openRegistryWithExecutor({ homeDir });
      return {
        registry,
        reset: () => resetRegistry(executor, homeDir),
        dataDir: path.join(homeDir, 'registry'),
        sql: executor,
        close: async () => {
          await registry.close();
          await rm(homeDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `t_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      await withClient(TEST_DATABASE_URL, (client) => client.query(`CREATE SCHEMA ${schema}`));
      const url = `${TEST_DATABASE_URL}&options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const homeDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-registry-pg-'));
      const { registry, executor } = await openRegistryWithExecutor({ databaseUrl: url, homeDir });
      return {
        registry,
        reset: () => resetRegistry(executor, homeDir),
        dataDir: null,
        sql: executor,
        close: async () => {
          await registry.close();
          await withClient(TEST_DATABASE_URL, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
          await rm(homeDir, { recursive: true, force: true });
        },
      };
    },
  },
];

async function openRegistryWithExecutor(options: { databaseUrl?: string; homeDir: string }) {
  const executor = options.databaseUrl
    ? openPostgresExecutor(options.databaseUrl)
    : await openPgliteExecutor(path.join(options.homeDir, 'registry'));
  return { registry: (await registryOn(executor, options.homeDir)).registry as Registry, executor };
}

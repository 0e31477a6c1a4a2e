// The registry's team store on PGlite (in-process); tests/integration/team/team-store.test.ts also runs it on PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openPgliteExecutor } from '../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { migrate } from '../../orchestrator/src/adapters/sql/migrate.ts';
import { registrySealer } from '../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { sqlTeamStore } from '../../orchestrator/src/adapters/sql/sql-team-store.ts';
import { describeTeamStoreContract } from './team-store.contract.ts';

describeTeamStoreContract('SQL on PGlite', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-team-store-contract-'));
  const sql = await openPgliteExecutor(path.join(dir, 'registry'));
  await migrate(sql);
  return {
    store: sqlTeamStore(sql, registrySealer(randomBytes(32))),
    close: async () => {
      await sql.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

// The registry's claims on PostgreSQL (`make test` starts the server); skipped, saying how to run it, without one.
import { describe, test } from 'node:test';
import pg from 'pg';
import { registryBackends, TEST_DATABASE_URL } from '../helpers/registries.ts';
import { describeRegistryClaimContract } from './registry-claims.contract.ts';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (await reachable(TEST_DATABASE_URL)) {
  const postgres = registryBackends.find((backend) => backend.name === 'postgres')!;
  describeRegistryClaimContract('SQL on PostgreSQL', () => postgres.open());
} else {
  describe('registry claim contract: SQL on PostgreSQL', () => {
    test('runs against PostgreSQL', { skip: 'no PostgreSQL at TEST_DATABASE_URL: `make test` starts one' }, () => undefined);
  });
}

// The registry's claims on PGlite (in-process); registry-claims-postgres.test.ts runs the same on PostgreSQL.
import { registryBackends } from '../helpers/registries.ts';
import { describeRegistryClaimContract } from './registry-claims.contract.ts';

const pglite = registryBackends.find((backend) => backend.name === 'pglite')!;
describeRegistryClaimContract('SQL on PGlite', () => pglite.open());

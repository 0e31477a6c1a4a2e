// The registry's claims (tests/contract/registry-claims.contract.ts) on PostgreSQL, which the integration
// suite has running (`make test` starts it); the contract suite runs the same cases on PGlite.
import { registryBackends } from '../../helpers/registries.ts';
import { describeRegistryClaimContract } from '../../contract/registry-claims.contract.ts';

const postgres = registryBackends.find((backend) => backend.name === 'postgres');
if (postgres === undefined) throw new Error('tests/helpers/registries.ts has no postgres backend');
describeRegistryClaimContract('SQL on PostgreSQL', () => postgres.open());

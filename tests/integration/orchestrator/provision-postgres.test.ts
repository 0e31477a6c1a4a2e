import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { TEST_DATABASE_URL } from '../../helpers/registries.ts';
import { agentCall } from '../../helpers/agent-tls.ts';

async function onDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('provisioning with the registry on PostgreSQL', () => {
  const schema = `prov_${process.pid}_${Date.now()}`;
  let fleet: FleetFixture;
  const used: ClientId[] = [];

  before(async () => {
    await onDatabase((client) => client.query(`CREATE SCHEMA ${schema}`));
    const url = `${TEST_DATABASE_URL}&options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    fleet = await createFleetFixture({ DATABASE_URL: url });
  });
  after(async () => {
    await fleet?.cleanup(used);
    await onDatabase((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  });

  test('provision runs a healthy agent and records it in PostgreSQL, in our own schema', async () => {
    const clientId = uniqueClientId('pg');
    used.push(clientId);
    const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.equal(result.outcome, 'provisioned');
    if (result.outcome !== 'provisioned') return;

    assert.equal((await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, result.controlAddress, '/healthz')).status, 200);
    const info = await docker.getContainer(resourceNames(clientId).container).inspect();
    assert.equal(info.State.Running, true);
    const targets = JSON.parse(await readFile(fleet.config.targetsFile, 'utf8')) as Array<{ labels: { client: string } }>;
    assert.ok(targets.some((group) => group.labels.client === clientId));

    const rows = await onDatabase((client) =>
      client.query<{ id: string; status: string; subnet: string }>(`SELECT id, status, subnet FROM ${schema}.clients WHERE id = $1`, [clientId]),
    );
    assert.deepEqual(rows.rows, [{ id: clientId, status: 'active', subnet: result.subnet }]);
    const log = await fleet.orchestrator.registry.listOpsLog({ clientId });
    assert.deepEqual(log.map((entry) => [entry.action, entry.outcome]), [['provision', 'success']]);
    assert.equal(verifyOpsLog(await fleet.orchestrator.registry.listOpsLog()).valid, true);
  });

  test('two concurrent provisions of one client produce one agent; the other is told it is busy', async () => {
    const clientId = uniqueClientId('pgc');
    used.push(clientId);
    const results = await Promise.allSettled([
      fleet.orchestrator.provision.provision({ clientId, actor: 'a' }),
      fleet.orchestrator.provision.provision({ clientId, actor: 'b' }),
    ]);
    const fulfilled = results.filter((result) => result.status === 'fulfilled').map((result) => result.value.outcome);
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => result.reason as unknown);
    assert.deepEqual(fulfilled, ['provisioned'], `outcomes: ${JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? r.value.outcome : String(r.reason))))}`);
    assert.equal(rejected.length, 1);
    assert.ok(isFleetError(rejected[0]) && rejected[0].code === 'busy', String(rejected[0]));
    assert.match((rejected[0] as Error).message, /already being provisioned/);

    const containers = await docker.listContainers({ all: true, filters: { label: [`io.agentfleet.client=${clientId}`] } });
    assert.equal(containers.length, 1);
    const networks = await docker.listNetworks({ filters: { label: [`io.agentfleet.client=${clientId}`] } });
    assert.equal(networks.length, 1);
    assert.equal((await fleet.orchestrator.registry.getClient(clientId))?.status, 'active');
    assert.deepEqual(
      (await fleet.orchestrator.registry.listOpsLog({ clientId })).map((entry) => entry.outcome),
      ['success'],
      'only the winner logged a provisioning',
    );
  });
});

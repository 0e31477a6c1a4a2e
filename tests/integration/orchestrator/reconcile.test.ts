import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ReconcileReport } from '../../../orchestrator/src/services/reconcile-fleet.ts';
import { createFleetFixture, docker, execNode, resourcesOf, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { agentCall } from '../../helpers/agent-tls.ts';

async function waitUntilStopped(container: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = (await docker.getContainer(container).inspect()).State;
    if (!state.Running) return state.ExitCode;
    if (Date.now() > deadline) throw new Error(`${container} still running`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Where the host reaches a port of the agent, read from Docker itself: the 127.0.0.1 port it publishes, or
 * (an internal client network publishes nothing) its address on its own network.
 */
async function agentAddress(container: string, port: number): Promise<string> {
  const info = await docker.getContainer(container).inspect();
  const published = info.NetworkSettings.Ports?.[`${port}/tcp`]?.[0]?.HostPort;
  if (published) return `127.0.0.1:${published}`;
  const ip = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
  assert.ok(ip, `${container} has an address on its network`);
  return `${ip}:${port}`;
}

const actionsFor = (report: ReconcileReport, clientId: string) =>
  report.actions.filter((action) => action.clientId === clientId).map((action) => action.kind);

describe('reconciler against the real Docker engine', () => {
  let fleet: FleetFixture;
  const used = new Set<ClientId>();
  const newClient = (stem: string) => {
    const id = uniqueClientId(stem);
    used.add(id);
    return id;
  };
  const provision = async (clientId: ClientId) => {
    const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.equal(result.outcome, 'provisioned');
    if (result.outcome !== 'provisioned') throw new Error('unreachable');
    return result;
  };

  before(async () => {
    fleet = await createFleetFixture();
  });
  after(() => fleet?.cleanup([...used]));

  test('a killed agent process is restarted, becomes healthy, and its scrape target follows its port', async () => {
    const clientId = newClient('rcrash');
    await provision(clientId);
    const container = resourceNames(clientId).container;
    await docker.getContainer(container).kill({ signal: 'KILL' });
    assert.equal(await waitUntilStopped(container), 137);

    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.equal(actionsFor(report, clientId)[0], 'restarted', JSON.stringify(report));
    assert.equal((await docker.getContainer(container).inspect()).State.Running, true);

    const control = await agentAddress(container, 8080);
    const metrics = await agentAddress(container, 9464);
    assert.equal((await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, control, '/healthz')).status, 200);
    const targets = await fleet.orchestrator.targets.list();
    assert.deepEqual(
      targets.filter((target) => target.clientId === clientId),
      [{ clientId, address: metrics }],
      'the target names where the agent listens now',
    );
    const exported = await (await fetch(`http://${metrics}/metrics`)).text();
    assert.match(exported, new RegExp(`fleet_agent_info\\{[^}]*client="${clientId}"[^}]*\\} 1`));

    const again = await fleet.orchestrator.reconcile.reconcile();
    assert.deepEqual(actionsFor(again, clientId), [], 'a healthy fleet needs no action');
  });

  test('a missing container of an active client is recreated and healthy', async () => {
    const clientId = newClient('rgone');
    await provision(clientId);
    const container = resourceNames(clientId).container;
    await docker.getContainer(container).remove({ force: true });

    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.equal(actionsFor(report, clientId)[0], 'recreated', JSON.stringify(report));
    const info = await docker.getContainer(container).inspect();
    assert.equal(info.State.Running, true);
    assert.equal(info.HostConfig.ReadonlyRootfs, true, 'recreated with the same hardening');
    assert.equal((await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, await agentAddress(container, 8080), '/healthz')).status, 200);
    const targets = await fleet.orchestrator.targets.list();
    assert.equal(targets.find((target) => target.clientId === clientId)?.address, await agentAddress(container, 9464));
  });

  test('an agent left paused (a backup whose thaw failed) is unpaused, and only then', async () => {
    const clientId = newClient('rpause');
    await provision(clientId);
    const container = resourceNames(clientId).container;
    await docker.getContainer(container).pause();

    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.deepEqual(actionsFor(report, clientId), ['thawed'], JSON.stringify(report));
    const state = (await docker.getContainer(container).inspect()).State;
    assert.equal(state.Paused, false);
    assert.equal(state.Running, true);
    assert.equal((await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, await agentAddress(container, 8080), '/healthz')).status, 200);

    const again = await fleet.orchestrator.reconcile.reconcile();
    assert.deepEqual(actionsFor(again, clientId), [], 'a running agent is not thawed again');
  });

  test("a killed client's running agent is stopped and stays stopped", async () => {
    const clientId = newClient('rkill');
    await provision(clientId);
    await fleet.orchestrator.registry.setStatus(clientId, 'killed', 'test kill switch', new Date());

    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.ok(actionsFor(report, clientId).includes('stopped-killed'), JSON.stringify(report));
    const container = resourceNames(clientId).container;
    assert.equal((await docker.getContainer(container).inspect()).State.Running, false);
    assert.ok(!(await fleet.orchestrator.targets.list()).some((target) => target.clientId === clientId), 'no scrape target');

    const again = await fleet.orchestrator.reconcile.reconcile();
    assert.deepEqual(actionsFor(again, clientId), []);
    assert.equal((await docker.getContainer(container).inspect()).State.Running, false, 'not restarted');
  });

  test('a managed container whose client is gone is removed with its network; its volume is kept and reported', async () => {
    const clientId = newClient('rorph');
    await provision(clientId);
    await fleet.orchestrator.registry.deleteClient(clientId);

    const report = await fleet.orchestrator.reconcile.reconcile();
    const names = resourceNames(clientId);
    const removed = report.actions.filter((action) => action.clientId === clientId && action.kind === 'orphan-removed');
    assert.deepEqual(removed.map((action) => action.detail).sort(), [`container ${names.container}`, `network ${names.network}`]);
    assert.deepEqual(await resourcesOf(clientId), [`volume ${names.volume}`], 'only the volume is left');
    assert.ok(
      report.drift.some((line) => line.includes(names.volume) && /kept/.test(line)),
      `drift reports the volume: ${JSON.stringify(report.drift)}`,
    );

    const again = await fleet.orchestrator.reconcile.reconcile();
    assert.deepEqual(await resourcesOf(clientId), [`volume ${names.volume}`], 'a second pass still keeps it');
    assert.ok(again.drift.some((line) => line.includes(names.volume)));
  });

  // Fails today: resources carry no label naming the fleet that created them, so a second orchestrator on
  // the same engine (a `node orchestrator` service next to tests, or two fleets on one host) treats every
  // other fleet's agent as an orphan and removes it. DESIGN.md: the reconciler "removes orphans it owns".
  test("a second fleet's reconciler does not remove this fleet's agents on the same engine", async () => {
    const clientId = newClient('rmine');
    await provision(clientId);
    // Another fleet (its own registry, so its own identity) on the same engine.
    const other = await createFleetFixture();
    try {
      await other.orchestrator.reconcile.reconcile();
    } finally {
      await other.cleanup([]);
    }
    const container = await docker.getContainer(resourceNames(clientId).container).inspect().catch(() => null);
    assert.equal(container?.State.Running, true, "the other fleet removed this fleet's running agent");
  });
});

describe('deprovisioning against the real Docker engine', () => {
  let fleet: FleetFixture;
  const used: ClientId[] = [];
  before(async () => {
    fleet = await createFleetFixture();
  });
  after(() => fleet?.cleanup(used));

  test('deprovision removes the container, network and target, keeps the volume, and can run twice', async () => {
    const clientId = uniqueClientId('dkeep');
    used.push(clientId);
    await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    const names = resourceNames(clientId);

    assert.deepEqual(await fleet.orchestrator.deprovision.deprovision({ clientId, purge: false, actor: 'test' }), { clientId, purged: false });
    assert.deepEqual(await resourcesOf(clientId), [`volume ${names.volume}`]);
    const record = await fleet.orchestrator.registry.getClient(clientId);
    assert.equal(record?.status, 'deprovisioned');
    assert.equal(record?.subnet, null, 'the subnet returns to the pool');
    assert.ok(!(await fleet.orchestrator.targets.list()).some((target) => target.clientId === clientId));

    await fleet.orchestrator.deprovision.deprovision({ clientId, purge: false, actor: 'test' });
    assert.deepEqual(await resourcesOf(clientId), [`volume ${names.volume}`]);
    const actions = (await fleet.orchestrator.registry.listOpsLog({ clientId })).map((entry) => entry.action);
    assert.deepEqual(actions, ['provision', 'deprovision', 'deprovision']);
  });

  test('a kept volume survives re-provisioning with its data', async () => {
    const clientId = uniqueClientId('dback');
    used.push(clientId);
    await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    const container = resourceNames(clientId).container;
    await execNode(container, `require('node:fs').writeFileSync('/data/kept.txt', 'client data')`);
    await fleet.orchestrator.deprovision.deprovision({ clientId, purge: false, actor: 'test' });
    const again = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.equal(again.outcome, 'provisioned');
    assert.equal(await execNode(container, `process.stdout.write(require('node:fs').readFileSync('/data/kept.txt', 'utf8'))`), 'client data');
  });

  test('purge removes the volume and the registry row, and can run twice', async () => {
    const clientId = uniqueClientId('dpurge');
    used.push(clientId);
    await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });

    assert.deepEqual(await fleet.orchestrator.deprovision.deprovision({ clientId, purge: true, actor: 'test' }), { clientId, purged: true });
    assert.deepEqual(await resourcesOf(clientId), []);
    assert.equal(await fleet.orchestrator.registry.getClient(clientId), null);
    await fleet.orchestrator.deprovision.deprovision({ clientId, purge: true, actor: 'test' });
    assert.deepEqual(await resourcesOf(clientId), []);
    const actions = (await fleet.orchestrator.registry.listOpsLog({ clientId })).map((entry) => `${entry.action}:${entry.outcome}`);
    // Each purge is logged as started before it deletes anything, so one cut off half-way is finished later.
    const purge = ['deprovision-purge:started', 'deprovision-purge:success'];
    assert.deepEqual(actions, ['provision:success', ...purge, ...purge], 'the ops log outlives the row');
  });

  test('deprovisioning an unknown client without purge is not_found; bad ids are refused', async () => {
    await assert.rejects(
      fleet.orchestrator.deprovision.deprovision({ clientId: uniqueClientId('dnone'), purge: false, actor: 'test' }),
      (error: unknown) => isFleetError(error) && error.code === 'not_found',
    );
    await assert.rejects(
      fleet.orchestrator.deprovision.deprovision({ clientId: '../x', purge: true, actor: 'test' }),
      (error: unknown) => isFleetError(error) && error.code === 'invalid_input',
    );
  });
});

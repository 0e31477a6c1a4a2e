import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { SagaFailedError } from '../../../orchestrator/src/domain/saga.ts';
import { createFleetFixture, docker, resourcesOf, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { agentCall } from '../../helpers/agent-tls.ts';

describe('provisioning on the real Docker engine', () => {
  let fleet: FleetFixture;
  const used: string[] = [];
  const newClient = () => {
    const id = uniqueClientId('p');
    used.push(id);
    return id;
  };

  before(async () => {
    fleet = await createFleetFixture();
  });
  after(() => fleet.cleanup(used));

  test('provision runs a healthy agent with every hardening setting, and lists its scrape target', async () => {
    const clientId = newClient();
    const events: string[] = [];
    const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' }, (event) => {
      if (event.type === 'step-succeeded') events.push(event.step);
    });
    assert.equal(result.outcome, 'provisioned');
    assert.deepEqual(events, ['registry', 'secrets', 'volume', 'network', 'container', 'start', 'health', 'introduce', 'target', 'active']);
    assert.equal((await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, result.outcome === 'provisioned' ? result.controlAddress : '', '/readyz')).status, 200, 'introduced and ready');
    if (result.outcome !== 'provisioned') return;
    const engine = (await docker.version()).Version;
    const engineMajor = Number(engine.split('.')[0]);
    assert.equal(result.warnings.length, engineMajor < 28 ? 1 : 0, `warnings on engine ${engine}: ${result.warnings.join('; ')}`);
    if (engineMajor < 28) assert.ok(result.warnings[0]?.startsWith(`Docker Engine ${engine} exposes ports published on 127.0.0.1`), result.warnings[0]);

    const names = resourceNames(clientId);
    const info = await docker.getContainer(names.container).inspect();
    const host = info.HostConfig;
    assert.equal(info.State.Running, true);
    assert.equal(info.Config.User, '10001:10001');
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.ok(!host.CapAdd || host.CapAdd.length === 0);
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(host.Privileged, false);
    assert.equal(host.ReadonlyRootfs, true);
    assert.match(host.Tmpfs?.['/tmp'] ?? '', /noexec/);
    assert.equal(host.Memory, fleet.config.agent.memoryBytes);
    assert.equal(host.MemorySwap, host.Memory, 'no swap');
    assert.equal(host.NanoCpus, fleet.config.agent.nanoCpus);
    assert.equal(host.PidsLimit, fleet.config.agent.pids);
    assert.equal(host.Init, true);
    assert.equal(host.LogConfig?.Config?.['max-size'], '10m');
    assert.equal(host.NetworkMode, names.network);
    assert.deepEqual(
      info.Mounts.map((mount) => [mount.Type, mount.Name, mount.Destination]),
      [['volume', names.volume, '/data']],
      'only its own volume',
    );
    assert.ok(!JSON.stringify(info.Mounts).includes('docker.sock'));
    for (const bindings of Object.values(host.PortBindings ?? {})) {
      for (const binding of bindings as Array<{ HostIp: string }>) assert.equal(binding.HostIp, '127.0.0.1');
    }
    assert.equal(info.Config.Labels['io.agentfleet.client'], clientId);
    assert.equal(info.Config.Labels['io.agentfleet.managed'], 'true');

    const network = await docker.getNetwork(names.network).inspect();
    assert.equal(network.Options?.['com.docker.network.bridge.enable_icc'], 'false');
    assert.equal(network.IPAM?.Config?.[0]?.Subnet, result.subnet);
    assert.match(result.subnet, /^10\.213\.\d+\.\d+\/28$/);

    const health = await agentCall(fleet.orchestrator.tls.ca.certificatePem, clientId, result.controlAddress, '/healthz');
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`http://${result.metricsAddress}/metrics`)).text();
    assert.match(metrics, new RegExp(`fleet_agent_info\\{version="[^"]+",client="${clientId}"\\} 1`));

    const targets = JSON.parse(await readFile(fleet.config.targetsFile, 'utf8'));
    assert.deepEqual(
      targets.filter((group: { labels: { client: string } }) => group.labels.client === clientId),
      [{ targets: [result.metricsAddress], labels: { client: clientId } }],
    );
    assert.equal((await fleet.orchestrator.registry.getClient(clientId))?.status, 'active');
  });

  test('provisioning an active client is a no-op that says so', async () => {
    const clientId = newClient();
    await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    const before = (await docker.getContainer(`fleet-${clientId}`).inspect()).Id;
    const again = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.deepEqual(again, { outcome: 'already-active', clientId });
    assert.equal((await docker.getContainer(`fleet-${clientId}`).inspect()).Id, before);
  });

  test('two concurrent provisions of the same client produce one agent', async () => {
    const clientId = newClient();
    const results = await Promise.allSettled([
      fleet.orchestrator.provision.provision({ clientId, actor: 'a' }),
      fleet.orchestrator.provision.provision({ clientId, actor: 'b' }),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(fulfilled.length + rejected.length, 2);
    assert.ok(fulfilled.some((r) => r.value.outcome === 'provisioned'));
    for (const r of rejected) assert.ok(isFleetError(r.reason) && r.reason.code === 'busy', String(r.reason));
    const containers = await docker.listContainers({ all: true, filters: { label: [`io.agentfleet.client=${clientId}`] } });
    assert.equal(containers.length, 1);
  });

  test('bad client ids are refused before any side effect, with what is allowed', async () => {
    for (const bad of ['', 'ACME', 'a b', '../etc', 'x;rm -rf /', 'аcme', 'a', 'a-', '-a', 'a'.repeat(33), 'vault', 'a--b', null, 42]) {
      await assert.rejects(
        fleet.orchestrator.provision.provision({ clientId: bad, actor: 'test' }),
        (error: unknown) => isFleetError(error) && error.code === 'invalid_input' && /client id/.test(error.message),
        `id ${JSON.stringify(bad)} must be refused`,
      );
    }
    const clients = await fleet.orchestrator.registry.listClients();
    assert.ok(clients.every((client) => used.includes(client.id)), 'no registry row for a refused id');
  });

  test('an invalid client config is refused before any side effect, naming the field', async () => {
    const clientId = newClient();
    await assert.rejects(
      fleet.orchestrator.provision.provision({ clientId, actor: 'test', configYaml: `client: ${clientId}\nrateLimits: {perHour: -3}\n` }),
      /rateLimits\.perHour/,
    );
    assert.deepEqual(await resourcesOf(clientId), []);
    assert.equal(await fleet.orchestrator.registry.getClient(clientId), null);
  });
});

describe('a failure at any provisioning step leaves nothing behind, and a second run succeeds', () => {
  const used: string[] = [];
  const fixtures: FleetFixture[] = [];
  after(async () => {
    for (const fixture of fixtures) await fixture.cleanup(used);
  });

  async function assertNothingLeft(fleet: FleetFixture, clientId: string) {
    assert.deepEqual(await resourcesOf(clientId), [], 'no container, network or volume');
    assert.equal(await fleet.orchestrator.registry.getClient(clientId as never), null, 'no registry row');
    const targets = await fleet.orchestrator.targets.list();
    assert.ok(!targets.some((target) => target.clientId === clientId), 'no scrape target');
    assert.deepEqual(await fleet.orchestrator.secretBackend.store.listSecrets(clientId as never), [], 'nothing left in Vault');
    assert.equal(await fleet.orchestrator.secretBackend.store.readControlToken(clientId as never), null, 'no control token left');
  }

  async function expectFailureAt(fleet: FleetFixture, clientId: string, step: string, options: { agentEnvironment?: Record<string, string> } = {}) {
    await assert.rejects(
      fleet.orchestrator.provision.provision({ clientId, actor: 'test', ...options }),
      (error: unknown) => error instanceof SagaFailedError && error.failedStep === step && error.compensationErrors.length === 0,
    );
    await assertNothingLeft(fleet, clientId);
  }

  test('a missing image fails at "container"', async () => {
    const broken = await createFleetFixture({ AGENT_IMAGE: 'agent-fleet/agent:does-not-exist' });
    const clientId = uniqueClientId('f');
    used.push(clientId);
    await expectFailureAt(broken, clientId, 'container');
    // The same fleet again, with the right image: one orchestrator at a time owns a home directory.
    await broken.orchestrator.close();
    const good = await createFleetFixture({ AGENT_FLEET_HOME: broken.homeDir });
    fixtures.push(good);
    assert.equal((await good.orchestrator.provision.provision({ clientId, actor: 'test' })).outcome, 'provisioned');
  });

  test('a health check that never passes fails at "health"', async () => {
    const fleet = await createFleetFixture({ AGENT_HEALTH_TIMEOUT_SECONDS: '3' });
    fixtures.push(fleet);
    const clientId = uniqueClientId('f');
    used.push(clientId);
    // The agent listens on another port than the published one, so /healthz never answers.
    await expectFailureAt(fleet, clientId, 'health', { agentEnvironment: { AGENT_CONTROL_PORT: '8081' } });
    assert.equal((await fleet.orchestrator.provision.provision({ clientId, actor: 'test' })).outcome, 'provisioned');
  });

  test('an agent that exits at start fails at "health" with its exit code', async () => {
    const fleet = await createFleetFixture();
    fixtures.push(fleet);
    const clientId = uniqueClientId('f');
    used.push(clientId);
    await assert.rejects(
      fleet.orchestrator.provision.provision({ clientId, actor: 'test', agentEnvironment: { AGENT_METRICS_PORT: 'not-a-port' } }),
      (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'health' && /exited with code/.test(error.message),
    );
    await assertNothingLeft(fleet, clientId);
  });

  test('a registry write that fails at "active" rolls everything back', async () => {
    const base = await createFleetFixture();
    fixtures.push(base);
    const registry = base.orchestrator.registry;
    const failing = Object.create(registry) as typeof registry;
    // Only the write that makes the client active fails: the rollback's own release of the claim still works.
    failing.transition = async (...args: Parameters<typeof registry.transition>) => {
      if (args[2] === 'active') throw new Error('registry write failed (injected)');
      return registry.transition(...args);
    };
    const fleet = await createFleetFixture(
      { AGENT_FLEET_HOME: base.homeDir },
      { registry: failing, secretBackend: base.orchestrator.secretBackend, runtime: base.orchestrator.runtime },
    );
    const clientId = uniqueClientId('f');
    used.push(clientId);
    await assert.rejects(
      fleet.orchestrator.provision.provision({ clientId, actor: 'test' }),
      (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'active',
    );
    await assertNothingLeft(base, clientId);
    assert.equal((await base.orchestrator.provision.provision({ clientId, actor: 'test' })).outcome, 'provisioned');
  });

  test('an unwritable scrape-target file fails at "target"', async () => {
    const fleet = await createFleetFixture();
    fixtures.push(fleet);
    const { mkdir, rm } = await import('node:fs/promises');
    await mkdir(fleet.config.targetsFile, { recursive: true }); // a directory where the file must go
    const clientId = uniqueClientId('f');
    used.push(clientId);
    await assert.rejects(
      fleet.orchestrator.provision.provision({ clientId, actor: 'test' }),
      (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'target',
    );
    assert.deepEqual(await resourcesOf(clientId), []);
    await rm(fleet.config.targetsFile, { recursive: true });
    assert.equal((await fleet.orchestrator.provision.provision({ clientId, actor: 'test' })).outcome, 'provisioned');
  });
});

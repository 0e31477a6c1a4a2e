// On the real engine: a leftover agent container (a crash between creating it and the client becoming
// active) is adopted by the next createAgent only when it is the container that call would make. The
// engine reports settings its own way (defaults filled in, empty lists as null): a container made by us
// must read as "the same", or every retry would replace it; one loosened since must be made anew.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resourceNames } from '@agent-fleet/kernel/client-id';
import { agentWorkloadSpec } from '../../../orchestrator/src/services/agent-workload.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';

describe('a leftover agent container on the real Docker engine', () => {
  let fleet: FleetFixture;
  const used: string[] = [];

  before(async () => {
    fleet = await createFleetFixture();
  });
  after(() => fleet.cleanup(used));

  test('the container provisioning made is adopted as it is; one whose memory limit was raised is replaced', async () => {
    const clientId = uniqueClientId('adopt');
    used.push(clientId);
    const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'test' });
    assert.equal(result.outcome, 'provisioned');
    const container = docker.getContainer(resourceNames(clientId).container);
    const made = await container.inspect();
    const vaultAddress = made.Config.Env.find((entry) => entry.startsWith('VAULT_ADDR='))?.slice('VAULT_ADDR='.length) ?? '';
    const record = await fleet.orchestrator.registry.getClient(clientId);
    const spec = agentWorkloadSpec(fleet.config, clientId, record?.configYaml ?? '', { VAULT_ADDR: vaultAddress });

    await fleet.orchestrator.runtime.createAgent(spec);
    const again = await container.inspect();
    assert.equal(again.Id, made.Id, 'the same container: nothing the engine reports reads as drift');
    assert.equal(again.State.Running, true, 'and left running');

    await container.update({ Memory: made.HostConfig.Memory! * 4, MemorySwap: made.HostConfig.Memory! * 4 });
    await fleet.orchestrator.runtime.createAgent(spec);
    const remade = await container.inspect();
    assert.notEqual(remade.Id, made.Id, 'a loosened leftover is made anew');
    assert.equal(remade.HostConfig.Memory, fleet.config.agent.memoryBytes);
  });
});

// The doctor's "isolated instance" item reads the agent's hardening back from the Docker Engine, not from
// what the orchestrator asked for: a client's container re-created directly through the Docker API with
// one hardening flag missing fails the item, naming that flag.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import type { OnboardingReport } from '../../../orchestrator/src/domain/onboarding-checklist.ts';
import { docker, uniqueClientId } from '../../helpers/fleet-fixture.ts';
import { startDoctorBed, type DoctorBed } from './doctor-bed.ts';

describe('fleet doctor: isolation read back from the runtime', { timeout: 300_000 }, () => {
  let bed: DoctorBed;
  let clientId: ClientId;

  before(async () => {
    bed = await startDoctorBed();
    clientId = uniqueClientId('di');
    const provisioned = await bed.fleet.orchestrator.provision.provision({
      clientId,
      actor: 'test',
      configYaml: `client: ${clientId}\nadmins: [boss@acme.example]\n`,
    });
    assert.equal(provisioned.outcome, 'provisioned');
  });
  after(async () => {
    await bed?.close([clientId]);
  });

  const isolationItem = async () => {
    const result = await bed.cli('--json', 'doctor', clientId);
    assert.equal(result.code, EXIT_CODES.conflict, result.err);
    return (JSON.parse(result.out) as OnboardingReport).items.find((item) => item.id === 'isolated-instance');
  };

  test('the hardened agent passes, with the evidence of each setting', async () => {
    const item = await isolationItem();
    assert.equal(item?.status, 'pass', JSON.stringify(item));
    for (const expected of [
      /^non-root user 10001:10001$/,
      /^all capabilities dropped$/,
      /^no-new-privileges$/,
      /^read-only root filesystem$/,
      /^network internal/,
    ]) {
      assert.ok(
        item?.evidence.some((line) => expected.test(line)),
        `${expected}: ${JSON.stringify(item?.evidence)}`,
      );
    }
  });

  test('the same container started without a read-only root fails the item, naming just that', async () => {
    const name = `fleet-${clientId}`;
    const original = await docker.getContainer(name).inspect();
    await docker.getContainer(name).remove({ force: true });
    const host = original.HostConfig;
    const replacement = await docker.createContainer({
      name,
      Image: original.Config.Image,
      User: original.Config.User,
      Env: original.Config.Env,
      Labels: original.Config.Labels,
      ExposedPorts: original.Config.ExposedPorts,
      HostConfig: {
        NetworkMode: host.NetworkMode,
        PortBindings: host.PortBindings,
        Mounts: host.Mounts,
        CapDrop: host.CapDrop,
        SecurityOpt: host.SecurityOpt,
        ReadonlyRootfs: false,
        Tmpfs: host.Tmpfs,
        Memory: host.Memory,
        MemorySwap: host.MemorySwap,
        NanoCpus: host.NanoCpus,
        PidsLimit: host.PidsLimit,
        Init: host.Init,
      },
      NetworkingConfig: { EndpointsConfig: { [host.NetworkMode ?? name]: {} } },
    });
    await replacement.start();
    const item = await isolationItem();
    assert.equal(item?.status, 'fail');
    assert.deepEqual(item?.evidence, ['root filesystem writable']);
  });
});

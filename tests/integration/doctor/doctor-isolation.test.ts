// The doctor's "isolated instance" item reads the agent's hardening back from the Docker Engine (and the
// host firewall from iptables), not from what the orchestrator asked for: a client's container re-created
// directly through the Docker API with one hardening flag missing fails the item, naming that flag.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import type { OnboardingReport } from '../../../orchestrator/src/domain/onboarding-checklist.ts';
import { docker, uniqueClientId } from '../../helpers/fleet-fixture.ts';
import { startDoctorBed, type DoctorBed } from './doctor-bed.ts';

const execFileAsync = promisify(execFile);

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
      /^of the host only what is bound to its gateway is reachable/,
    ]) {
      assert.ok(
        item?.evidence.some((line) => expected.test(line)),
        `${expected}: ${JSON.stringify(item?.evidence)}`,
      );
    }
  });

  test("the client's bridge without its host firewall rule fails the item, naming that; with it back it passes", async () => {
    const network = await docker.getNetwork(`fleet-${clientId}`).inspect();
    const drop = ['AGENT-FLEET-INPUT', '-i', `br-${String(network.Id).slice(0, 12)}`, '-j', 'DROP'];
    await execFileAsync('iptables', ['-w', '-D', ...drop]);
    try {
      const item = await isolationItem();
      assert.equal(item?.status, 'fail');
      assert.deepEqual(item?.evidence.filter((line) => line.includes('host firewall')), [
        'the host firewall has no rules for its bridge: services on the host are reachable from it (restart the orchestrator)',
      ]);
    } finally {
      await execFileAsync('iptables', ['-w', '-A', ...drop]);
    }
    assert.equal((await isolationItem())?.status, 'pass');
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
    // The finding, then the command that mends it (every open item ends with one).
    assert.deepEqual(item?.evidence.filter((line) => !line.startsWith('fix: ')), ['root filesystem writable']);
    assert.match(item?.evidence.at(-1) ?? '', new RegExp(`^fix: fleet provision ${clientId} `));
  });
});

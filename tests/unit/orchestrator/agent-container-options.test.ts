import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { buildAgentContainerOptions } from '../../../orchestrator/src/adapters/docker/agent-container-options.ts';
import { volumeHelperOptions } from '../../../orchestrator/src/adapters/docker/helper-containers.ts';
import type { AgentWorkloadSpec } from '../../../orchestrator/src/ports/container-runtime.ts';

const MIB = 1024 * 1024;

function spec(overrides: Partial<AgentWorkloadSpec> = {}): AgentWorkloadSpec {
  return {
    clientId: parseClientId('acme'),
    image: 'agent-fleet/agent:0.1.0',
    configYaml: 'client: acme\n',
    environment: { AGENT_VERSION: '0.1.0', LOG_LEVEL: 'info' },
    limits: { memoryBytes: 128 * MIB, nanoCpus: 500_000_000, pids: 128, tmpfsBytes: 16 * MIB },
    hostPorts: { control: 0, metrics: 0 },
    user: '10001:10001',
    ...overrides,
  };
}

void test('the container runs the image as the non-root user, named and labelled for its client', () => {
  const options = buildAgentContainerOptions(spec());
  assert.equal(options.name, 'fleet-acme');
  assert.equal(options.Image, 'agent-fleet/agent:0.1.0');
  assert.equal(options.User, '10001:10001');
  assert.deepEqual(options.Labels, { 'io.agentfleet.client': 'acme', 'io.agentfleet.managed': 'true', 'io.agentfleet.component': 'agent' });
  assert.deepEqual(options.Env, ['AGENT_VERSION=0.1.0', 'LOG_LEVEL=info']);
});

void test('every hardening setting is present', () => {
  const host = buildAgentContainerOptions(spec()).HostConfig!;
  assert.deepEqual(host.CapDrop, ['ALL']);
  assert.deepEqual(host.CapAdd, []);
  assert.deepEqual(host.SecurityOpt, ['no-new-privileges:true']);
  assert.equal(host.Privileged, false);
  assert.equal(host.ReadonlyRootfs, true);
  assert.deepEqual(host.Tmpfs, { '/tmp': `rw,noexec,nosuid,nodev,size=${16 * MIB}` });
  assert.equal(host.Memory, 128 * MIB);
  assert.equal(host.MemorySwap, 128 * MIB, 'swap equal to memory means no swap');
  assert.equal(host.NanoCpus, 500_000_000);
  assert.equal(host.PidsLimit, 128);
  assert.equal(host.Init, true);
  assert.equal(host.IpcMode, 'private');
  assert.equal((host as Record<string, unknown>)['CgroupnsMode'], 'private', 'never the host cgroup namespace, whatever the engine defaults to');
  assert.deepEqual(host.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.deepEqual(host.RestartPolicy, { Name: 'no' });
  for (const weakening of ['PidMode', 'UsernsMode', 'Devices', 'DeviceRequests', 'Binds', 'VolumesFrom', 'Sysctls', 'Links']) {
    assert.equal((host as Record<string, unknown>)[weakening], undefined, weakening);
  }
  assert.ok(!(host.SecurityOpt ?? []).some((option) => /unconfined|apparmor|seccomp|label/.test(option)), 'engine profiles stay on');
});

void test('limits follow the spec', () => {
  const host = buildAgentContainerOptions(
    spec({ limits: { memoryBytes: 64 * MIB, nanoCpus: 250_000_000, pids: 64, tmpfsBytes: 4 * MIB } }),
  ).HostConfig!;
  assert.equal(host.Memory, 64 * MIB);
  assert.equal(host.MemorySwap, 64 * MIB);
  assert.equal(host.NanoCpus, 250_000_000);
  assert.equal(host.PidsLimit, 64);
  assert.match(host.Tmpfs?.['/tmp'] ?? '', new RegExp(`size=${4 * MIB}$`));
});

void test('ports are published on 127.0.0.1 only, on ephemeral or the requested host ports', () => {
  const ephemeral = buildAgentContainerOptions(spec()).HostConfig!.PortBindings;
  assert.deepEqual(ephemeral, {
    '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '9464/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
  });
  const fixed = buildAgentContainerOptions(spec({ hostPorts: { control: 18080, metrics: 19464 } })).HostConfig!.PortBindings;
  assert.deepEqual(fixed, {
    '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
    '9464/tcp': [{ HostIp: '127.0.0.1', HostPort: '19464' }],
  });
  assert.equal(buildAgentContainerOptions(spec()).HostConfig!.PublishAllPorts, undefined);
});

void test("only the client's own volume is mounted, and never the Docker socket", () => {
  const options = buildAgentContainerOptions(spec());
  assert.deepEqual(options.HostConfig!.Mounts, [{ Type: 'volume', Source: 'fleet-acme-data', Target: '/data', ReadOnly: false }]);
  assert.ok(!JSON.stringify(options).includes('docker.sock'));
});

void test("the container joins only its client's network", () => {
  const options = buildAgentContainerOptions(spec());
  assert.equal(options.HostConfig!.NetworkMode, 'fleet-acme');
  assert.deepEqual(Object.keys(options.NetworkingConfig!.EndpointsConfig!), ['fleet-acme']);
});

void test('an OCI runtime is set only when one is configured', () => {
  assert.equal(buildAgentContainerOptions(spec()).HostConfig!.Runtime, undefined);
  assert.ok(!('Runtime' in buildAgentContainerOptions(spec({ ociRuntime: undefined })).HostConfig!));
  assert.equal(buildAgentContainerOptions(spec({ ociRuntime: 'runsc' })).HostConfig!.Runtime, 'runsc');
});

void test('the client config never travels in the environment', () => {
  const options = buildAgentContainerOptions(spec({ configYaml: 'client: acme\nsecretish: do-not-leak\n' }));
  assert.ok(!JSON.stringify(options).includes('do-not-leak'));
});

void test('volume helpers run in private IPC and cgroup namespaces', () => {
  const host = volumeHelperOptions({ clientId: parseClientId('acme'), fleetLabels: {}, image: 'agent-fleet/agent:test', user: '10001:10001', readOnly: true }).HostConfig as Record<string, unknown>;
  assert.equal(host['IpcMode'], 'private');
  assert.equal(host['CgroupnsMode'], 'private');
});

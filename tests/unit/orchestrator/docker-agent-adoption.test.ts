// The Docker runtime's container step against an in-process stand-in for the Engine API (on a unix socket in a
// temporary directory): a container of ours left from a crash is adopted only when it is the container the
// runtime would make now; one with another image or looser confinement is removed and made again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { LABEL_FLEET, parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { agentContainerDrift, agentImageFacts } from '../../../orchestrator/src/adapters/docker/agent-container-drift.ts';
import { buildAgentContainerOptions } from '../../../orchestrator/src/adapters/docker/agent-container-options.ts';
import { DockerContainerRuntime } from '../../../orchestrator/src/adapters/docker/docker-container-runtime.ts';
import type { AgentWorkloadSpec } from '../../../orchestrator/src/ports/container-runtime.ts';
import { engineStandIn } from './engine-stand-in.ts';

interface StoredImage {
  Id: string;
  Config: { Env: string[]; Labels: Record<string, string> | null; Entrypoint: string[] | null; Cmd: string[] | null };
}

const images = new Map<string, StoredImage>();
const containers = new Map<string, Docker.ContainerInspectInfo>();
const removed: string[] = [];

const IMAGE = 'agent-fleet/agent:test';
/** What Docker 20.10 fills into HostConfig.MaskedPaths and ReadonlyPaths of an unprivileged container. */
const ENGINE_MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const ENGINE_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function storeImage(): StoredImage {
  const image = {
    Id: `sha256:${randomUUID().replaceAll('-', '')}`,
    Config: { Env: ['PATH=/usr/local/bin:/usr/bin', 'NODE_ENV=production'], Labels: { 'org.opencontainers.image.title': 'agent' }, Entrypoint: ['node'], Cmd: ['dist/main.js'] },
  };
  images.set(IMAGE, image);
  return image;
}

/** What the Engine stores for a create: the image's config merged in, its defaults filled in. */
function inspectOf(body: Docker.ContainerCreateOptions, image: StoredImage): Docker.ContainerInspectInfo {
  const env = new Map([...image.Config.Env, ...(body.Env ?? [])].map((entry) => [entry.slice(0, entry.indexOf('=')), entry] as const));
  const hostConfig = body.HostConfig ?? {};
  return {
    Id: randomUUID(),
    Name: `/${body.name}`,
    Image: image.Id,
    State: { Status: 'created', Running: false, ExitCode: 0, StartedAt: '' },
    Config: {
      User: body.User ?? '',
      Env: [...env.values()],
      Labels: { ...image.Config.Labels, ...body.Labels },
      Entrypoint: body.Entrypoint ?? image.Config.Entrypoint,
      Cmd: body.Cmd ?? image.Config.Cmd,
      Image: body.Image,
      ExposedPorts: body.ExposedPorts ?? {},
    },
    HostConfig: {
      ...hostConfig,
      RestartPolicy: { Name: hostConfig.RestartPolicy?.Name ?? 'no', MaximumRetryCount: 0 },
      Runtime: hostConfig.Runtime ?? 'runc',
      CapAdd: hostConfig.CapAdd?.length ? hostConfig.CapAdd : null,
      Binds: null,
      Devices: [],
      PidMode: '',
      UsernsMode: '',
    },
    NetworkSettings: { Networks: Object.fromEntries(Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {}).map((name) => [name, { IPAddress: '' }])), Ports: {} },
    Mounts: [],
  } as unknown as Docker.ContainerInspectInfo;
}

const engine = engineStandIn('docker-adoption-', (request, reply) => {
  const { url, pathname } = request;
  const imageNamed = /^\/images\/(.+)\/json$/.exec(pathname);
  if (imageNamed && request.method === 'GET') {
    const image = images.get(decodeURIComponent(imageNamed[1]!));
    return image ? reply(200, image) : reply(404, { message: 'no such image' });
  }
  if (request.method === 'POST' && pathname === '/containers/create') {
    const body = { ...(JSON.parse(request.body) as Docker.ContainerCreateOptions), name: url.searchParams.get('name') ?? '' };
    const image = images.get(body.Image ?? '');
    if (!image) return reply(404, { message: 'no such image' });
    if (containers.has(body.name!)) return reply(409, { message: 'name in use' });
    const created = inspectOf(body, image);
    containers.set(body.name!, created);
    return reply(201, { Id: created.Id });
  }
  const named = /^\/containers\/([^/]+)(\/json)?$/.exec(pathname);
  if (named && request.method === 'GET' && named[2]) {
    const container = containers.get(decodeURIComponent(named[1]!));
    return container ? reply(200, container) : reply(404, { message: 'no such container' });
  }
  if (named && request.method === 'DELETE' && !named[2]) {
    const name = decodeURIComponent(named[1]!);
    if (!containers.delete(name)) return reply(404, { message: 'no such container' });
    removed.push(name);
    return reply(204);
  }
  reply(500, { message: `unexpected ${request.method} ${url.pathname}` });
});

const fleetId = 'fleet-under-test';
const clientId = parseClientId('acme');
const CONTAINER = 'fleet-acme';

function spec(overrides: Partial<AgentWorkloadSpec> = {}): AgentWorkloadSpec {
  return {
    clientId,
    image: IMAGE,
    configYaml: 'client: acme\n',
    environment: { AGENT_VERSION: '1.0.0', VAULT_ADDR: 'https://10.201.0.1:8200' },
    limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 500_000_000, pids: 256, tmpfsBytes: 16 * 1024 * 1024 },
    hostPorts: { control: 0, metrics: 0 },
    user: '1000:1000',
    ...overrides,
  };
}

const runtime = () => new DockerContainerRuntime({ socketPath: engine.socketPath, fleetId });

/** The settings in which a container differs from the one the runtime makes for spec() now. */
function driftFromConfigured(container: Docker.ContainerInspectInfo): string[] {
  const built = buildAgentContainerOptions(spec());
  const wanted = { ...built, Labels: { ...built.Labels, [LABEL_FLEET]: fleetId } };
  return agentContainerDrift(wanted, container, agentImageFacts(images.get(IMAGE) as unknown as Docker.ImageInspectInfo));
}

/** Makes the container as the runtime does, then changes what was left behind as `leave` says. */
async function leftover(leave: (container: Docker.ContainerInspectInfo) => void, made: AgentWorkloadSpec = spec()): Promise<string> {
  await runtime().createAgent(made);
  const container = containers.get(CONTAINER)!;
  leave(container);
  return container.Id;
}

describe('creating an agent where a container of ours was left behind', () => {
  beforeEach(() => {
    images.clear();
    containers.clear();
    removed.length = 0;
    storeImage();
  });

  test('a leftover that is the container the runtime would make now is adopted as it is', async () => {
    const id = await leftover(() => undefined);
    await runtime().createAgent(spec());
    assert.equal(containers.get(CONTAINER)?.Id, id);
    assert.deepEqual(removed, []);
  });

  test('a leftover made from an older build of the image is replaced by one from the current image', async () => {
    const id = await leftover(() => undefined);
    const current = storeImage();
    await runtime().createAgent(spec());
    assert.notEqual(containers.get(CONTAINER)?.Id, id);
    assert.equal(containers.get(CONTAINER)?.Image, current.Id);
  });

  test('a leftover made with looser limits is replaced by one with the configured limits', async () => {
    await leftover(() => undefined, spec({ limits: { memoryBytes: 4 * 1024 ** 3, nanoCpus: 4_000_000_000, pids: 4096, tmpfsBytes: 16 * 1024 * 1024 } }));
    await runtime().createAgent(spec());
    const host = containers.get(CONTAINER)!.HostConfig;
    assert.equal(host.Memory, 512 * 1024 * 1024);
    assert.equal(host.NanoCpus, 500_000_000);
    assert.equal(host.PidsLimit, 256);
  });

  test('a leftover made with another environment (an older Vault address) is replaced', async () => {
    await leftover(() => undefined, spec({ environment: { AGENT_VERSION: '1.0.0', VAULT_ADDR: 'https://10.99.0.1:8200' } }));
    await runtime().createAgent(spec());
    assert.ok(containers.get(CONTAINER)!.Config.Env.includes('VAULT_ADDR=https://10.201.0.1:8200'));
  });

  const loosenings: Array<[string, (container: Docker.ContainerInspectInfo) => void]> = [
    ['a writable root filesystem', (container) => void (container.HostConfig.ReadonlyRootfs = false)],
    ['another user', (container) => void (container.Config.User = '0:0')],
    ['no dropped capabilities', (container) => void (container.HostConfig.CapDrop = [])],
    ['an added capability', (container) => void (container.HostConfig.CapAdd = ['SYS_ADMIN'])],
    ['seccomp switched off', (container) => void (container.HostConfig.SecurityOpt = ['no-new-privileges:true', 'seccomp=unconfined'])],
    ['privilege escalation allowed', (container) => void (container.HostConfig.SecurityOpt = [])],
    ['privileged', (container) => void (container.HostConfig.Privileged = true)],
    ['no pids limit', (container) => void (container.HostConfig.PidsLimit = 0)],
    ['swap allowed', (container) => void (container.HostConfig.MemorySwap = -1)],
    ['the Docker socket bind-mounted', (container) => void (container.HostConfig.Binds = ['/var/run/docker.sock:/var/run/docker.sock'])],
    ['another volume mounted', (container) => void (container.HostConfig.Mounts = [{ Type: 'volume', Source: 'fleet-other-data', Target: '/data', ReadOnly: false }])],
    ['a port published on every address', (container) => void (container.HostConfig.PortBindings = { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }] })],
    ['the host network namespace', (container) => void (container.HostConfig.NetworkMode = 'host')],
    ['an extra network', (container) => void (container.NetworkSettings.Networks = { ...container.NetworkSettings.Networks, bridge: { IPAddress: '' } as never })],
    ['the host pid namespace', (container) => void (container.HostConfig.PidMode = 'host')],
    ['a host device', (container) => void (container.HostConfig.Devices = [{ PathOnHost: '/dev/kmsg', PathInContainer: '/dev/kmsg', CgroupPermissions: 'rwm' }])],
    ['an engine restart policy', (container) => void (container.HostConfig.RestartPolicy = { Name: 'always', MaximumRetryCount: 0 })],
    ['another command', (container) => void (container.Config.Cmd = ['sh', '-c', 'sleep infinity'])],
    ['a label changed', (container) => void (container.Config.Labels = { ...container.Config.Labels, 'io.agentfleet.component': 'other' })],
    ['no masked paths (the engine told to mask nothing)', (container) => void (container.HostConfig.MaskedPaths = [])],
    ['/proc/kcore unmasked', (container) => void (container.HostConfig.MaskedPaths = ENGINE_MASKED.filter((path) => path !== '/proc/kcore'))],
    ['no read-only paths', (container) => void (container.HostConfig.ReadonlyPaths = [])],
    ['a DNS server of its own', (container) => void (container.HostConfig.Dns = ['192.0.2.53'])],
    ['an /etc/hosts entry for the mail provider', (container) => void (container.HostConfig.ExtraHosts = ['gmail.googleapis.com:192.0.2.7'])],
    ['a supplementary group', (container) => void (container.HostConfig.GroupAdd = ['0'])],
    ['a device cgroup rule', (container) => void (container.HostConfig.DeviceCgroupRules = ['c *:* rwm'])],
    ['the host UTS namespace', (container) => void (container.HostConfig.UTSMode = 'host')],
    ['the host cgroup namespace', (container) => void Object.assign(container.HostConfig, { CgroupnsMode: 'host' })],
    ['another cgroup parent', (container) => void (container.HostConfig.CgroupParent = '/unlimited')],
    ['an anonymous volume mounted', (container) => void (container.Mounts = [{ Type: 'volume', Name: 'f'.repeat(64), Source: '', Destination: '/app', Driver: 'local', Mode: '', RW: true, Propagation: '' }])],
    ['the data volume mounted with options of its own', (container) => void (container.HostConfig.Mounts = [{ Type: 'volume', Source: 'fleet-acme-data', Target: '/data', ReadOnly: false, VolumeOptions: { Subpath: 'other' } } as never])],
    ['another working directory', (container) => void (container.Config.WorkingDir = '/tmp')],
    ['a healthcheck command', (container) => void (container.Config.Healthcheck = { Test: ['CMD', '/usr/local/bin/node', '-e', 'require("fs").rmSync("/data",{recursive:true})'] })],
  ];
  for (const [what, loosen] of loosenings) {
    test(`a leftover with ${what} is removed and made again as configured`, async () => {
      const id = await leftover(loosen);
      await runtime().createAgent(spec());
      assert.deepEqual(removed, [CONTAINER]);
      const made = containers.get(CONTAINER)!;
      assert.notEqual(made.Id, id);
      assert.deepEqual(driftFromConfigured(made), [], 'the new container is as configured');
    });
  }

  const engineSpellings: Array<[string, (container: Docker.ContainerInspectInfo) => void]> = [
    ['the daemon’s default log options merged in', (container) => void (container.HostConfig.LogConfig = { Type: 'json-file', Config: { ...container.HostConfig.LogConfig?.Config, compress: 'true' } })],
    ['unset settings reported as null', (container) => void Object.assign(container.HostConfig, { Sysctls: null, VolumesFrom: null, OomKillDisable: false, PublishAllPorts: false })],
    [
      'the engine’s own defaults filled in',
      (container) =>
        void Object.assign(container.HostConfig, {
          ConsoleSize: [0, 0],
          ShmSize: 64 * 1024 * 1024,
          CgroupnsMode: 'private',
          MaskedPaths: [...ENGINE_MASKED, '/sys/devices/virtual/powercap'],
          ReadonlyPaths: ENGINE_READONLY,
          Dns: [],
          ExtraHosts: null,
          KernelMemory: 0,
          Isolation: '',
        }),
    ],
    [
      'its volume listed among the mounts',
      (container) => void (container.Mounts = [{ Type: 'volume', Name: 'fleet-acme-data', Source: '/var/lib/docker/volumes/fleet-acme-data/_data', Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]),
    ],
  ];
  for (const [what, spell] of engineSpellings) {
    test(`a leftover as configured but with ${what} is adopted`, async () => {
      const id = await leftover(spell);
      await runtime().createAgent(spec());
      assert.equal(containers.get(CONTAINER)?.Id, id);
      assert.deepEqual(removed, []);
    });
  }

  test('a leftover with bigger log files than configured is replaced', async () => {
    await leftover((container) => void (container.HostConfig.LogConfig = { Type: 'json-file', Config: { 'max-size': '1g', 'max-file': '3' } }));
    await runtime().createAgent(spec());
    assert.deepEqual(removed, [CONTAINER]);
  });

  test('a leftover made for another OCI runtime than the configured one is replaced', async () => {
    await leftover(() => undefined);
    await runtime().createAgent(spec({ ociRuntime: 'runsc' }));
    assert.equal(containers.get(CONTAINER)?.HostConfig.Runtime, 'runsc');
  });

  test('a container of the same name that is not ours is refused, never removed', async () => {
    await leftover((container) => void (container.Config.Labels = { 'io.agentfleet.client': 'acme' }));
    await assert.rejects(runtime().createAgent(spec()), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
    assert.deepEqual(removed, []);
  });

  test('a leftover whose image is gone from the host is not adopted: the missing image is reported', async () => {
    await leftover(() => undefined);
    images.clear();
    await assert.rejects(runtime().createAgent(spec()), (error: unknown) => error instanceof FleetError && error.code === 'not_found' && /make images/.test(error.message));
    assert.deepEqual(removed, []);
  });
});

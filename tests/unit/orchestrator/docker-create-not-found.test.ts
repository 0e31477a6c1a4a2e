// The Engine answers a container create with 404 both when the image is missing ("No such image: …") and when the
// network is ("network … not found"). Against an in-process stand-in for the Engine API: the runtime reports the
// one that is actually missing, so the operator is not sent to rebuild images when a network is gone.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { clientLabels, LABEL_FLEET, parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { DockerContainerRuntime } from '../../../orchestrator/src/adapters/docker/docker-container-runtime.ts';
import type { AgentWorkloadSpec } from '../../../orchestrator/src/ports/container-runtime.ts';
import { engineStandIn } from './engine-stand-in.ts';

const IMAGE = 'agent-fleet/agent:test';
const images = new Set<string>();
const networks = new Set<string>();

const engine = engineStandIn('docker-create-', (request, reply) => {
  const { pathname } = request;
  if (request.method === 'POST' && pathname === '/containers/create') {
    const body = JSON.parse(request.body) as Docker.ContainerCreateOptions;
    if (!images.has(body.Image ?? '')) return reply(404, { message: `No such image: ${body.Image}` });
    const network = body.HostConfig?.NetworkMode ?? 'default';
    if (network !== 'none' && !networks.has(network)) return reply(404, { message: `network ${network} not found` });
    return reply(201, { Id: 'c0ffee' });
  }
  if (request.method === 'GET' && /^\/containers\/[^/]+\/json$/.test(pathname)) return reply(404, { message: 'No such container' });
  if (request.method === 'GET' && pathname === '/volumes/fleet-acme-data') {
    return reply(200, { Name: 'fleet-acme-data', Driver: 'local', Labels: { ...clientLabels(clientId), [LABEL_FLEET]: fleetId }, Scope: 'local', Options: null });
  }
  reply(500, { message: `unexpected ${request.method} ${pathname}` });
});

const fleetId = 'fleet-under-test';
const clientId = parseClientId('acme');
const runtime = () => new DockerContainerRuntime({ socketPath: engine.socketPath, fleetId });

const spec: AgentWorkloadSpec = {
  clientId,
  image: IMAGE,
  configYaml: '',
  environment: {},
  limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pids: 128, tmpfsBytes: 1024 * 1024 },
  hostPorts: { control: 0, metrics: 0 },
  user: '10001:10001',
};

const notFound = (check: (message: string) => boolean) => (error: unknown) => error instanceof FleetError && error.code === 'not_found' && check(error.message);

describe('a container create the Engine answers with 404', () => {
  beforeEach(() => {
    images.clear();
    networks.clear();
  });

  test('a missing network is reported as the missing network, not as a missing image', async () => {
    images.add(IMAGE);
    await assert.rejects(
      runtime().createAgent(spec),
      notFound((message) => /network fleet-acme not found/.test(message) && !/make images/.test(message)),
    );
  });

  test('a missing image is reported as the missing image, with how to build it', async () => {
    networks.add('fleet-acme');
    await assert.rejects(runtime().createAgent(spec), notFound((message) => message.includes(`image ${IMAGE} is not present`) && /make images/.test(message)));
  });

  test('a volume helper whose image is missing reports the missing image', async () => {
    await assert.rejects(
      runtime().volumes.writeFiles(clientId, IMAGE, '10001:10001', { 'flag.json': '{}' }),
      notFound((message) => /make images/.test(message)),
    );
  });
});

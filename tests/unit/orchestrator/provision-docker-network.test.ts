// The Docker runtime's network step against an in-process stand-in for the Engine API (on a unix socket in a
// temporary directory): a client network left from another configuration is not adopted as it is.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { clientLabels, LABEL_FLEET, parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { DockerContainerRuntime } from '../../../orchestrator/src/adapters/docker/docker-container-runtime.ts';
import { engineStandIn } from './engine-stand-in.ts';

interface StoredNetwork {
  Name: string;
  Driver: string;
  Attachable?: boolean;
  Internal: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
  /** Stand-in for attached endpoints: the Engine refuses to remove such a network. */
  inUse?: boolean;
}

const networks = new Map<string, StoredNetwork>();

const engine = engineStandIn('provision-docker-', (request, reply) => {
  const { url } = request;
  const named = /^(?:\/v[\d.]+)?\/networks\/([^/]+)$/.exec(url.pathname);
  if (request.method === 'POST' && /\/networks\/create$/.test(url.pathname)) {
    const body = JSON.parse(request.body) as StoredNetwork;
    networks.set(body.Name, { ...body, Options: body.Options ?? {} });
    return reply(201, { Id: randomUUID() });
  }
  if (named && request.method === 'GET') {
    const network = networks.get(decodeURIComponent(named[1]!));
    return network ? reply(200, network) : reply(404, { message: 'network not found' });
  }
  if (named && request.method === 'DELETE') {
    const name = decodeURIComponent(named[1]!);
    const network = networks.get(name);
    if (!network) return reply(404, { message: 'network not found' });
    if (network.inUse) return reply(403, { message: 'error while removing network: network has active endpoints' });
    networks.delete(name);
    return reply(204);
  }
  reply(500, { message: `unexpected ${request.method} ${url.pathname}` });
});

const fleetId = 'fleet-under-test';
const clientId = parseClientId('acme');
const subnet = '10.201.0.0/24';

/** A network as the runtime makes them (ours, ICC off), internal or not. */
function leftNetwork(internal: boolean, inUse = false): StoredNetwork {
  return {
    Name: 'fleet-acme',
    Driver: 'bridge',
    Internal: internal,
    Labels: { ...clientLabels(clientId), [LABEL_FLEET]: fleetId },
    Options: { 'com.docker.network.bridge.enable_icc': 'false' },
    IPAM: { Config: [{ Subnet: subnet, Gateway: '10.201.0.1' }] },
    inUse,
  };
}

const withProxy = () =>
  new DockerContainerRuntime({ socketPath: engine.socketPath, fleetId, egressProxy: async (_client, network) => `http://${network.gateway}:3128` });

test('with the egress proxy on, a client network left with a route off the bridge is made again internal', async () => {
  networks.clear();
  networks.set('fleet-acme', leftNetwork(false));
  const network = await withProxy().ensureNetwork(clientId, subnet);
  assert.equal(networks.get('fleet-acme')?.Internal, true, 'the agent cannot bypass the proxy');
  assert.equal(network.created, true);
});

test('a network already made as configured is adopted as it is', async () => {
  networks.clear();
  networks.set('fleet-acme', leftNetwork(true));
  const network = await withProxy().ensureNetwork(clientId, subnet);
  assert.equal(network.created, false);
  assert.equal(network.gateway, '10.201.0.1');
});

test('a loose network that is still in use is refused, not adopted', async () => {
  networks.clear();
  networks.set('fleet-acme', leftNetwork(false, true));
  await assert.rejects(withProxy().ensureNetwork(clientId, subnet), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
  assert.equal(networks.get('fleet-acme')?.Internal, false, 'left as it was');
});

const withoutProxy = () => new DockerContainerRuntime({ socketPath: engine.socketPath, fleetId });

const notOurs: Array<[string, Partial<StoredNetwork>]> = [
  ['a macvlan network on the LAN', { Driver: 'macvlan', Options: { parent: 'eth0', 'com.docker.network.bridge.enable_icc': 'false' } }],
  ['a bridge on the default bridge device', { Options: { 'com.docker.network.bridge.name': 'docker0', 'com.docker.network.bridge.enable_icc': 'false' } }],
  ['a bridge binding published ports on every address', { Options: { 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', 'com.docker.network.bridge.enable_icc': 'false' } }],
  ['an attachable network', { Attachable: true }],
];
for (const [what, shape] of notOurs) {
  test(`a network with our labels that is ${what} is made again as configured, not adopted`, async () => {
    networks.clear();
    networks.set('fleet-acme', { ...leftNetwork(false), ...shape });
    const network = await withoutProxy().ensureNetwork(clientId, subnet);
    assert.equal(network.created, true);
    const made = networks.get('fleet-acme');
    assert.equal(made?.Driver, 'bridge');
    assert.deepEqual(made?.Options, { 'com.docker.network.bridge.enable_icc': 'false' });
    assert.equal(made?.Attachable, false);
  });
}

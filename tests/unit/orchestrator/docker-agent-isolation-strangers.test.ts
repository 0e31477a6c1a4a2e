// The isolation check reports every container on a client's network that is not the client's own: against an
// in-process stand-in for the Engine API, another client's agent whose name merely begins like this client's
// (`fleet-acme-corp` on `fleet-acme`), or an unlabelled container named like a helper, is a stranger; the
// client's own volume reader is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientLabels, LABEL_FLEET, parseClientId } from '@agent-fleet/kernel/client-id';
import { DockerAgentIsolation } from '../../../orchestrator/src/adapters/docker/docker-agent-isolation.ts';
import { engineStandIn } from './engine-stand-in.ts';

const fleetId = 'fleet-under-test';
const clientId = parseClientId('acme');
const labelsOf = (client: string, component: string) => ({ ...clientLabels(parseClientId(client)), [LABEL_FLEET]: fleetId, 'io.agentfleet.component': component });

const attached = [
  { Id: 'agent', Names: ['/fleet-acme'], Labels: labelsOf('acme', 'agent') },
  { Id: 'reader', Names: ['/fleet-acme-reader'], Labels: labelsOf('acme', 'volume-reader') },
  { Id: 'neighbour', Names: ['/fleet-acme-corp'], Labels: labelsOf('acme-corp', 'agent') },
  { Id: 'lookalike', Names: ['/fleet-acme-helper-0a1b2c3d'], Labels: {} },
];

const engine = engineStandIn('docker-isolation-', (request, reply) => {
  const { method, pathname } = request;
  if (method === 'GET' && pathname === '/containers/fleet-acme/json') {
    return reply(200, {
      Id: 'agent',
      State: { Running: true },
      Config: { Labels: labelsOf('acme', 'agent'), Env: [], User: '10001:10001' },
      HostConfig: {},
      Mounts: [],
      NetworkSettings: { Networks: { 'fleet-acme': { IPAddress: '10.201.0.2' } } },
    });
  }
  if (method === 'GET' && pathname === '/networks/fleet-acme') {
    return reply(200, {
      Name: 'fleet-acme',
      Internal: true,
      Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      IPAM: { Config: [{ Subnet: '10.201.0.0/24', Gateway: '10.201.0.1' }] },
      Containers: Object.fromEntries(attached.map((container) => [container.Id, { Name: container.Names[0]!.slice(1) }])),
    });
  }
  if (method === 'GET' && pathname === '/containers/json') return reply(200, attached);
  reply(500, { message: `unexpected ${method} ${pathname}` });
});

test("another client's agent and unlabelled look-alikes on the client's network are strangers; its own reader is not", async () => {
  const isolation = new DockerAgentIsolation({ socketPath: engine.socketPath, fleetId });
  const facts = await isolation.inspectIsolation(clientId);
  assert.deepEqual(facts?.network?.strangers.sort(), ['fleet-acme-corp', 'fleet-acme-helper-0a1b2c3d']);
});

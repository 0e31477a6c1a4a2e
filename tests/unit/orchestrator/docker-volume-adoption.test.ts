// The Docker runtime's volume step against an in-process stand-in for the Engine API: a volume of the client's
// name is used only when it is the one the runtime makes (our labels, the local driver, no driver options).
// One pre-made as a bind of a host directory carries our labels just as easily, and is refused, never removed.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { clientLabels, LABEL_FLEET, parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { DockerContainerRuntime } from '../../../orchestrator/src/adapters/docker/docker-container-runtime.ts';
import { engineStandIn } from './engine-stand-in.ts';

const volumes = new Map<string, Docker.VolumeInspectInfo>();
const removed: string[] = [];
const created: string[] = [];
/** Stand-in for another party making the volume between the runtime's inspect and its create. */
let premadeOnCreate: Docker.VolumeInspectInfo | null = null;

const engine = engineStandIn('docker-volume-', (request, reply) => {
  const { pathname } = request;
  if (request.method === 'POST' && pathname === '/volumes/create') {
    const body = JSON.parse(request.body) as { Name: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> };
    // The engine answers a create of an existing name (same driver) with the existing volume.
    if (premadeOnCreate) volumes.set(body.Name, premadeOnCreate);
    const volume = volumes.get(body.Name) ?? { Name: body.Name, Driver: body.Driver ?? 'local', Mountpoint: '', Labels: body.Labels ?? {}, Scope: 'local', Options: body.DriverOpts ?? null };
    volumes.set(body.Name, volume);
    created.push(body.Name);
    return reply(201, volume);
  }
  const named = /^\/volumes\/([^/]+)$/.exec(pathname);
  if (named && request.method === 'GET') {
    const volume = volumes.get(decodeURIComponent(named[1]!));
    return volume ? reply(200, volume) : reply(404, { message: 'get fleet-acme-data: no such volume' });
  }
  if (named && request.method === 'DELETE') {
    const name = decodeURIComponent(named[1]!);
    if (!volumes.delete(name)) return reply(404, { message: 'no such volume' });
    removed.push(name);
    return reply(204);
  }
  reply(500, { message: `unexpected ${request.method} ${pathname}` });
});

const fleetId = 'fleet-under-test';
const clientId = parseClientId('acme');
const VOLUME = 'fleet-acme-data';
const runtime = () => new DockerContainerRuntime({ socketPath: engine.socketPath, fleetId });
const ourLabels = () => ({ ...clientLabels(clientId), [LABEL_FLEET]: fleetId });

function volume(overrides: Partial<Docker.VolumeInspectInfo> = {}): Docker.VolumeInspectInfo {
  return { Name: VOLUME, Driver: 'local', Mountpoint: `/var/lib/docker/volumes/${VOLUME}/_data`, Labels: ourLabels(), Scope: 'local', Options: null, ...overrides };
}

const isConflict = (pattern: RegExp) => (error: unknown) => error instanceof FleetError && error.code === 'conflict' && pattern.test(error.message);

const foreignShapes: Array<[string, Partial<Docker.VolumeInspectInfo>, RegExp]> = [
  ['a bind of the host root', { Options: { type: 'none', o: 'bind', device: '/' } }, /driver options/],
  ['an NFS share', { Options: { type: 'nfs', o: 'addr=192.0.2.1,rw', device: ':/exports' } }, /driver options/],
  ['another volume driver', { Driver: 'some-plugin:latest' }, /volume driver/],
];

describe('the client volume the Docker runtime finds already there', () => {
  beforeEach(() => {
    volumes.clear();
    removed.length = 0;
    created.length = 0;
    premadeOnCreate = null;
  });

  test('a volume made as the runtime makes them is adopted', async () => {
    volumes.set(VOLUME, volume());
    assert.deepEqual(await runtime().ensureVolume(clientId), { created: false });
  });

  test('the same volume as the CLI reports it (empty options) is adopted', async () => {
    volumes.set(VOLUME, volume({ Options: {} }));
    assert.deepEqual(await runtime().ensureVolume(clientId), { created: false });
  });

  test('a fresh volume is made on the local driver with no options', async () => {
    assert.deepEqual(await runtime().ensureVolume(clientId), { created: true });
    assert.equal(volumes.get(VOLUME)?.Driver, 'local');
    assert.equal(volumes.get(VOLUME)?.Options, null);
  });

  for (const [what, shape, reason] of foreignShapes) {
    test(`a volume with our labels that is ${what} is refused and left as it is`, async () => {
      volumes.set(VOLUME, volume(shape));
      await assert.rejects(runtime().ensureVolume(clientId), isConflict(reason));
      assert.deepEqual(created, []);
      assert.deepEqual(removed, []);
    });

    test(`the volume operations (snapshots, restores, readers) refuse a volume with our labels that is ${what}`, async () => {
      volumes.set(VOLUME, volume(shape));
      await assert.rejects(runtime().volumes.snapshot(clientId, 'agent-fleet/agent:test'), isConflict(reason));
      await assert.rejects(runtime().volumes.writeFiles(clientId, 'agent-fleet/agent:test', '10001:10001', { 'flag.json': '{}' }), isConflict(reason));
    });

    test(`removing the client's volume refuses one with our labels that is ${what}, rather than report its data gone`, async () => {
      volumes.set(VOLUME, volume(shape));
      await assert.rejects(runtime().removeVolume(clientId), isConflict(reason));
      assert.deepEqual(removed, []);
    });
  }

  test('the volume operations refuse a volume that carries only the client label', async () => {
    volumes.set(VOLUME, volume({ Labels: { 'io.agentfleet.client': 'acme' } }));
    await assert.rejects(runtime().volumes.snapshot(clientId, 'agent-fleet/agent:test'), isConflict(/not managed/));
  });

  test('a bind volume made by someone else between the inspect and the create is refused', async () => {
    premadeOnCreate = volume({ Options: { type: 'none', o: 'bind', device: '/' } });
    await assert.rejects(runtime().ensureVolume(clientId), isConflict(/driver options/));
    assert.deepEqual(removed, []);
  });
});

// A restore stages a backup's tree inside the client's volume, then swaps it in. The staging directory must be
// one (never `..`, a path, or a live entry of the volume: the engine would extract the tree there), and the
// restaged entries keep their names: a dot file stays a dot file, whether its archive spells it `./.x` or `.x`.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { clientLabels, LABEL_FLEET, parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { DockerContainerRuntime } from '../../../orchestrator/src/adapters/docker/docker-container-runtime.ts';
import { restageTar } from '../../../orchestrator/src/adapters/docker/restage-tar.ts';
import { headersIn, once, tarOf } from '../../helpers/tar-entries.ts';
import { engineStandIn } from './engine-stand-in.ts';

const fleetId = 'fleet-under-test';
const clientId = parseClientId('acme');
const extractedInto: string[] = [];

/** An engine that holds the client's volume and accepts helpers and archives (recording where they land). */
const engine = engineStandIn('docker-staging-', (request, reply) => {
  const { method, pathname, url } = request;
  if (method === 'GET' && pathname === '/volumes/fleet-acme-data') {
    return reply(200, { Name: 'fleet-acme-data', Driver: 'local', Labels: { ...clientLabels(clientId), [LABEL_FLEET]: fleetId }, Scope: 'local', Options: null });
  }
  if (method === 'POST' && pathname === '/containers/create') return reply(201, { Id: 'helper' });
  if (method === 'PUT' && /\/archive$/.test(pathname)) {
    extractedInto.push(url.searchParams.get('path') ?? '');
    return reply(200);
  }
  if (method === 'DELETE') return reply(204);
  reply(500, { message: `unexpected ${method} ${pathname}` });
});

/** A tar of `names` (a directory where the name ends in `/`, else a file holding `x`), every entry mode 0600. */
const tarOfNames = (names: string[]): Promise<Buffer> =>
  tarOf(names.map((name) => (name.endsWith('/') ? { name, type: 'directory', mode: 0o600 } : { name, content: 'x' })));

const namesIn = async (stream: Readable): Promise<string[]> => (await headersIn(stream)).map((header) => header.name);

describe('staging a restore in a Docker volume', () => {
  for (const name of ['../escape', '.restore-staging-a/../../app', 'keys', '.restore-staging-', '.restore-previous']) {
    test(`the staging directory ${JSON.stringify(name)} is refused before anything is written`, async () => {
      extractedInto.length = 0;
      const runtime = new DockerContainerRuntime({ socketPath: engine.socketPath, fleetId });
      await assert.rejects(
        runtime.volumes.stage(clientId, 'agent-fleet/agent:test', name, once(await tarOfNames(['./', './a']))),
        (error: unknown) => error instanceof FleetError && error.code === 'invalid_input',
      );
      await assert.rejects(runtime.volumes.swap(clientId, 'agent-fleet/agent:test', '10001:10001', name), (error: unknown) => error instanceof FleetError && error.code === 'invalid_input');
      assert.deepEqual(extractedInto, []);
    });
  }

  test('dot files keep their names, however the archive spells them', async () => {
    const restaged = restageTar(once(await tarOfNames(['./', './.profile', '.hidden', '..twice', 'plain'])), '.restore-staging-b1-abc123');
    assert.deepEqual((await namesIn(restaged.tar)).sort(), [
      '.restore-staging-b1-abc123/',
      '.restore-staging-b1-abc123/..twice',
      '.restore-staging-b1-abc123/.hidden',
      '.restore-staging-b1-abc123/.profile',
      '.restore-staging-b1-abc123/plain',
    ]);
  });
});

// The kill switch's SIGKILL on Docker: it returns once the engine reports the process gone (its `die`
// event, or the kill call's own answer when the event stream fails or is refused) and the container is then stopped
// with the SIGKILL's status; a container that is not running or does not exist is refused as the engine
// refuses it, so stopAgent can read "not running" from it.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { killContainer } from '../../../orchestrator/src/adapters/docker/kill-container.ts';
import { statusCodeOf } from '../../../orchestrator/src/adapters/docker/docker-errors.ts';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { docker } from '../../helpers/fleet-fixture.ts';

const image = loadConfig({}).agent.image;
const created: string[] = [];

async function runningContainer(stem: string): Promise<string> {
  const name = `fleet-test-kill-${stem}-${process.pid}`;
  const container = await docker.createContainer({
    name,
    Image: image,
    Entrypoint: ['/usr/local/bin/node', '-e', 'setInterval(() => {}, 1000)'],
    Cmd: [],
    User: '10001:10001',
    Labels: { 'io.agentfleet.test-probe': 'true' },
    HostConfig: { Memory: 128 * 1024 * 1024, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true, PidsLimit: 16 },
  });
  created.push(name);
  await container.start();
  return name;
}

/** The engine, except that its event stream says nothing (`silent`), breaks at once (`broken`) or is refused. */
function withEvents(kind: 'silent' | 'broken' | 'refused'): Docker {
  const engine = Object.create(docker) as Docker;
  engine.getEvents = (async () => {
    if (kind === 'refused') throw new Error('events refused (injected)');
    const stream = new PassThrough();
    if (kind === 'broken') setImmediate(() => stream.destroy(new Error('event stream broken (injected)')));
    return stream;
  }) as Docker['getEvents'];
  return engine;
}

async function assertKilled(name: string): Promise<void> {
  const { State } = await docker.getContainer(name).inspect();
  assert.equal(State.Running, false, `${name} no longer runs`);
  assert.equal(State.ExitCode, 137, 'ended by the SIGKILL');
}

describe('killContainer (Docker Engine)', () => {
  after(async () => {
    await Promise.all(created.map((name) => docker.getContainer(name).remove({ force: true }).catch(() => undefined)));
  });

  test('SIGKILLs a running container and returns once it is gone', async () => {
    const name = await runningContainer('run');
    await killContainer(docker, name);
    await assertKilled(name);
  });

  for (const kind of ['silent', 'broken', 'refused'] as const) {
    test(`with a ${kind} event stream, the kill's own answer decides`, async () => {
      const name = await runningContainer(kind);
      await killContainer(withEvents(kind), name);
      await assertKilled(name);
    });
  }

  test('a stopped container is refused with 409, a missing one with 404', async () => {
    const name = await runningContainer('twice');
    await killContainer(docker, name);
    await assert.rejects(killContainer(docker, name), (error: unknown) => statusCodeOf(error) === 409);
    await assert.rejects(killContainer(docker, `fleet-test-kill-missing-${process.pid}`), (error: unknown) => statusCodeOf(error) === 404);
  });
});

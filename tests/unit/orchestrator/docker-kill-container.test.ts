// The kill switch's SIGKILL on Docker returns at the killed container's own `die` event. The Engine's `container`
// event filter matches names by prefix, so the stream also carries the deaths of `fleet-acme-corp` or of
// `fleet-acme`'s own helpers: none of those may be read as the agent's death while its kill is unanswered.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type Docker from 'dockerode';
import { killContainer } from '../../../orchestrator/src/adapters/docker/kill-container.ts';

/** An engine whose event stream and kill answer the test drives. */
function drivenEngine() {
  const events = new PassThrough();
  let answerKill: () => void = () => undefined;
  const killAnswered = new Promise<void>((resolve) => {
    answerKill = resolve;
  });
  const engine = {
    getEvents: async () => events,
    getContainer: () => ({ kill: () => killAnswered }),
  } as unknown as Docker;
  const dieOf = (name: string, id = 'f00d') =>
    events.write(`${JSON.stringify({ Type: 'container', Action: 'die', status: 'die', id, Actor: { ID: id, Attributes: { name, exitCode: '137' } } })}\n`);
  return { engine, dieOf, answerKill };
}

/** Lets every pending stream callback and promise job run. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('killContainer and the Engine event stream', () => {
  test('returns at the killed container’s own die event, before the kill is answered', async () => {
    const { engine, dieOf, answerKill } = drivenEngine();
    let returned = false;
    const killing = killContainer(engine, 'fleet-acme').then(() => void (returned = true));
    await settle();
    dieOf('fleet-acme');
    await settle();
    assert.equal(returned, true);
    answerKill();
    await killing;
  });

  for (const other of ['fleet-acme-corp', 'fleet-acme-helper-0a1b2c3d', 'fleet-acme-reader']) {
    test(`the death of ${other} is not taken for the death of fleet-acme`, async () => {
      const { engine, dieOf, answerKill } = drivenEngine();
      let returned = false;
      const killing = killContainer(engine, 'fleet-acme').then(() => void (returned = true));
      await settle();
      dieOf(other);
      await settle();
      assert.equal(returned, false, 'still waiting for fleet-acme itself');
      answerKill();
      await killing;
      assert.equal(returned, true);
    });
  }
});

// Every Graph answer is bounded: in time (a server that stalls, or drips its body, must not hold the mail
// loop: Node's fetch alone waits five minutes for headers and forever for a body that keeps dripping) and,
// for message reads, in size (a body too large for the agent's memory is refused before it is downloaded).
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GraphMailProvider } from '../../../agent-image/src/adapters/graph/graph-mail-provider.ts';

/**
 * A loopback Graph whose every answer `respond` writes by hand; the open responses end on close. Each
 * exchange's deadline is a signal the test fires (`deadlines`), never a clock.
 */
async function handWrittenGraph(respond: (response: ServerResponse) => void) {
  const open: ServerResponse[] = [];
  const server = createServer((request, response) => {
    request.resume();
    open.push(response);
    respond(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deadlines: { timeoutMs: number; controller: AbortController }[] = [];
  const deadlineSignal = (timeoutMs: number) => {
    const controller = new AbortController();
    deadlines.push({ timeoutMs, controller });
    return controller.signal;
  };
  const provider = new GraphMailProvider({ tokens: { getAccessToken: async () => 't' }, baseUrl: base, canSend: false, timeoutMs: 300, deadlineSignal, logger: createSilentLogger() });
  const close = async () => {
    for (const response of open) response.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { provider, close, deadlines };
}

describe('bounded Graph answers', () => {
  it('an answer whose body stalls ends at its deadline as no answer, retryable', async () => {
    // A message read asks two things at once (the message, the Sent Items folder): both answers stall.
    let stalls = 0;
    let bothStalled!: () => void;
    const stalled = new Promise<void>((resolve) => (bothStalled = resolve));
    const graph = await handWrittenGraph((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"id":"AAMk1","subject":"', () => ++stalls === 2 && bothStalled());
    });
    try {
      const answer = graph.provider.getMessage('AAMk1');
      await stalled;
      assert.deepEqual(
        graph.deadlines.map((deadline) => deadline.timeoutMs),
        [300, 300],
        'a deadline of the configured length on each exchange',
      );
      for (const { controller } of graph.deadlines) controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      // Were a deadline not on its body's read, the server's hang-up would end the answer, with another cause.
      setImmediate(() => void graph.close());
      await assert.rejects(answer, (error: unknown) => {
        assert.ok(error instanceof FleetError && error.code === 'unavailable' && error.retryable, String(error));
        const cause = error.cause as { code?: unknown } | undefined;
        assert.equal(cause?.code, 'TimeoutError', 'ended by the deadline, not by the server or the body');
        return true;
      });
    } finally {
      await graph.close();
    }
  });

  it('a message answer declared larger than the agent reads is refused before its body is read', async () => {
    const graph = await handWrittenGraph((response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) });
      response.write('{"id":"AAMk1","body":{"contentType":"text","content":"');
    });
    try {
      await assert.rejects(graph.provider.getMessage('AAMk1'), (error: unknown) => {
        return error instanceof FleetError && error.code === 'invalid_input' && /more than the 10 MB the agent reads/.test(error.message);
      });
    } finally {
      await graph.close();
    }
  });
});

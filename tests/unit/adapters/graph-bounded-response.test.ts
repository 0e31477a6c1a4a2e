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

/** A loopback Graph whose every answer `respond` writes by hand; the open responses end on close. */
async function handWrittenGraph(respond: (response: ServerResponse) => void) {
  const open: ServerResponse[] = [];
  const server = createServer((request, response) => {
    request.resume();
    open.push(response);
    respond(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new GraphMailProvider({ tokens: { getAccessToken: async () => 't' }, baseUrl: base, canSend: false, timeoutMs: 300, logger: createSilentLogger() });
  const close = async () => {
    for (const response of open) response.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { provider, close };
}

describe('bounded Graph answers', () => {
  // The hang guard only keeps a broken bound from stalling the run; the assertion is on what ended the answer.
  it('an answer whose body stalls ends at the timeout as no answer, retryable', { timeout: 60_000 }, async () => {
    const graph = await handWrittenGraph((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"id":"AAMk1","subject":"');
    });
    try {
      await assert.rejects(graph.provider.getMessage('AAMk1'), (error: unknown) => {
        assert.ok(error instanceof FleetError && error.code === 'unavailable' && error.retryable, String(error));
        const cause = error.cause as { code?: unknown } | undefined;
        assert.equal(cause?.code, 'TimeoutError', 'ended by the timeout, not by the server or the body');
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

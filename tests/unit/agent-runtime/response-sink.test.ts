import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ResponseSink, writeWithBackpressure } from '../../../agent-image/src/http/response-sink.ts';

/** A response whose reader has already gone away (its 'close' already emitted). */
async function closedResponse(): Promise<{ response: ServerResponse; done: () => Promise<void> }> {
  let resolveResponse: (response: ServerResponse) => void = () => undefined;
  const served = new Promise<ServerResponse>((resolve) => (resolveResponse = resolve));
  const server = createServer((_request, response) => resolveResponse(response));
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const client = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/' });
  client.on('error', () => undefined);
  client.end();
  const response = await served;
  const closed = new Promise((resolve) => response.once('close', resolve));
  client.destroy();
  await closed;
  return { response, done: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Whether `promise` settled within the event-loop turn that follows (it never settles when it hangs). */
async function outcomeOf(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  const pending = new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')));
  return Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), pending]);
}

test('a write to a response whose reader already went away rejects instead of waiting for ever', async () => {
  const { response, done } = await closedResponse();
  try {
    assert.equal(await outcomeOf(writeWithBackpressure(response, 'x'.repeat(1 << 20))), 'rejected');
  } finally {
    await done();
  }
});

test('the export sink refuses writes once its reader went away', async () => {
  const { response, done } = await closedResponse();
  try {
    const sink = new ResponseSink(response);
    assert.equal(sink.writable, false);
    assert.throws(() => sink.write('record\n'), { code: 'unavailable' });
  } finally {
    await done();
  }
});

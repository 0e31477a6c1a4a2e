import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { listenForRedirect } from '../../../orchestrator/src/adapters/oauth/loopback-redirect-listener.ts';
import { createState } from '../../../orchestrator/src/adapters/oauth/pkce.ts';

/** One raw HTTP/1.1 request (fetch would normalise the request target); resolves with the status line. */
function rawRequest(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('the loopback redirect listener under hostile requests', () => {
  test('request targets that are no URL on our origin are answered 404 and the flow still completes', async () => {
    const listener = await listenForRedirect();
    const port = Number(new URL(listener.redirectUri).port);
    const state = createState();
    try {
      const outcome = listener.waitForRedirect(state, 5_000);
      for (const target of ['//', '//[', '//oauth/callback?code=x']) {
        assert.match(await rawRequest(port, target), /^HTTP\/1\.1 404 /, target);
      }
      const page = await fetch(`${listener.redirectUri}?code=c0de&state=${state}`);
      assert.equal(page.status, 200);
      assert.deepEqual(await outcome, { kind: 'code', code: 'c0de' });
    } finally {
      await listener.close();
    }
  });
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { ControlTls, CONTROL_REQUEST_TIME_LIMITS, listenTls } from '../../../agent-image/src/http/control-tls.ts';
import { agentBundle, testFleetCa } from '../../helpers/agent-tls.ts';

const acme = parseClientId('acme');

/** Everything the server sends until it closes the connection. */
async function answerUntilClosed(socket: TLSSocket): Promise<string> {
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  await once(socket, 'close');
  return answer;
}

describe('the control listener bounds how long a caller may take to send its request', () => {
  test('a body trickled past the request limit is answered 408 and the connection closed, the handler never finishing it', { timeout: 20_000 }, async () => {
    let bodiesRead = 0;
    const tls = new ControlTls(await agentBundle(acme), { clientId: acme });
    const server = await listenTls(
      (request, response) => {
        request.resume();
        request.on('end', () => {
          bodiesRead += 1;
          response.writeHead(204).end();
        });
      },
      '127.0.0.1',
      0,
      tls,
      { headersMs: 200, requestMs: 400, checkEveryMs: 50 },
    );
    try {
      const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca: (await testFleetCa()).certificatePem, servername: 'localhost', checkServerIdentity: () => undefined });
      await once(socket, 'secureConnect');
      socket.write('POST /v1/introduce HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"wrapping');
      const answer = await answerUntilClosed(socket);
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.equal(bodiesRead, 0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('the agent’s limits are well under Node’s defaults and checked often enough to matter', () => {
    assert.ok(CONTROL_REQUEST_TIME_LIMITS.headersMs < 60_000 && CONTROL_REQUEST_TIME_LIMITS.requestMs < 300_000);
    assert.ok(CONTROL_REQUEST_TIME_LIMITS.headersMs <= CONTROL_REQUEST_TIME_LIMITS.requestMs);
    assert.ok(CONTROL_REQUEST_TIME_LIMITS.checkEveryMs < CONTROL_REQUEST_TIME_LIMITS.headersMs);
  });
});

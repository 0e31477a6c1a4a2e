// Requests the HTTP parser itself rejects never reach the proxy's CONNECT handling: they must still be
// recorded as refusals (an agent probing with garbage leaves a trace), and a peer that merely resets must not.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createEgressProxyServer, type EgressOutcome } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxy-server.ts';

async function listening(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** The server's side of the next connection, closed. */
const nextServerSideClosed = (server: net.Server) =>
  new Promise<void>((resolve) => server.once('connection', (socket: net.Socket) => socket.once('close', () => resolve())));

describe('malformed proxy requests', () => {
  test('a header flood, a bad request line and a non-ASCII target are each refused as bad_request; a reset is not a refusal', async () => {
    const outcomes: EgressOutcome[] = [];
    const proxy = createEgressProxyServer({ authorize: async () => ({ allow: false, reason: 'not_allowed' }), onOutcome: (outcome) => outcomes.push(outcome) });
    const port = await listening(proxy.server);
    const send = async (bytes: string, reset = false) => {
      const closed = nextServerSideClosed(proxy.server);
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => undefined);
      socket.write(bytes, () => {
        if (reset) socket.resetAndDestroy();
      });
      await closed;
      socket.destroy();
    };
    try {
      await send(`CONNECT mail.example.test:443 HTTP/1.1\r\n${'X-Pad: y\r\n'.repeat(3000)}\r\n`);
      await send('C0NNECT\x01 mail.example.test:443 HTTP/1.1\r\n\r\n');
      await send('CONNECT bücher.example:443 HTTP/1.1\r\n\r\n');
      await send('CONNECT mail.example.test:443 HTTP/1.1\r\nX-Half: ', true);
      assert.deepEqual(
        outcomes.map((outcome) => (outcome.kind === 'refused' ? [outcome.reason, outcome.source, outcome.target] : outcome.kind)),
        [
          ['bad_request', '127.0.0.1', null],
          ['bad_request', '127.0.0.1', null],
          ['bad_request', '127.0.0.1', null],
        ],
      );
    } finally {
      await proxy.close();
    }
  });
});

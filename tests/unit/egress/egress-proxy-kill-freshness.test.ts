// The registry read behind the egress proxy is shared by a burst of CONNECTs, but never across a kill: a
// CONNECT that arrives once the registry says killed must be decided by a read that started after it came.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createEgressProxies } from '../../../orchestrator/src/adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog } from '../../../orchestrator/src/adapters/egress-proxy/egress-refusal-log.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import { parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';
import { freePort } from '../../helpers/free-port.ts';
import { connectStatus } from './connect-status.ts';

/** Where the client's CONNECTs come from: an address on its network. */
const CLIENT_ADDRESS = '127.0.0.2';

test('a CONNECT that arrives after the registry says killed is refused, even while a read begun before the kill is on its way', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'egress-kill-'));
  const echo = net.createServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
  await new Promise((resolve) => echo.once('listening', resolve));
  const echoPort = (echo.address() as AddressInfo).port;
  let status: ClientStatus = 'active';
  let reads = 0;
  let releaseFirstRead!: () => void;
  const firstReadHeld = new Promise<void>((resolve) => {
    releaseFirstRead = resolve;
  });
  const proxies = createEgressProxies({
    port: await freePort(),
    extraRules: [parseEgressRule(`localhost:${echoPort}`)],
    lookupClient: async (clientId) => {
      reads += 1;
      // The row as the database had it when the read began (a snapshot), answered when the test says.
      const seen = status;
      if (reads === 1) await firstReadHeld;
      return { status: seen, configYaml: `client: ${clientId}\nprovider: gmail\n` };
    },
    refusals: new EgressRefusalLog(path.join(dir, 'refused.jsonl')),
    metrics: { serving: () => undefined, refused: () => undefined, tunnelled: () => undefined },
    logger: createSilentLogger(),
  });
  try {
    const url = new URL(await proxies.listen(parseClientId('acme'), { gateway: '127.0.0.1', subnet: '127.0.0.0/30' }));
    const port = Number(url.port);
    const target = `localhost:${echoPort}`;
    const beforeKill = connectStatus(port, target, CLIENT_ADDRESS);
    while (reads === 0) await delay(5);
    status = 'killed';
    const afterKill = connectStatus(port, target, CLIENT_ADDRESS);
    // Long enough for the proxy to have taken the second CONNECT in while the first read is still held.
    await delay(100);
    releaseFirstRead();
    assert.match(await beforeKill, /^HTTP\/1\.1 200 /, 'asked before the kill, decided by a read from before it');
    assert.match(await afterKill, /^HTTP\/1\.1 403 /, 'asked after the kill: no tunnel');
    assert.equal(reads, 2);
  } finally {
    await proxies.close();
    echo.close();
    await rm(dir, { recursive: true, force: true });
  }
});

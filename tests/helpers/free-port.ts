import net, { type AddressInfo } from 'node:net';

// The kernel may hand the same ephemeral port to two binds in a row once the first is closed: a test
// asking for several ports (one per listener of one service) then got two equal ones now and then, and
// the service refused its configuration ("must differ from ..."). Ports handed out here are never handed out again.
const handedOut = new Set<number>();

async function bindAndRelease(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback port free right now and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await bindAndRelease();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no fresh loopback port after 50 attempts');
}

// Scripts run from inside an agent's network namespace (runNodeInNetworkOf), and a stand-in for "the
// outside": a server on Docker's routed default bridge, which any container on a routed network reaches.
import type Docker from 'dockerode';
import { docker } from '../../helpers/fleet-fixture.ts';

/** TCP connect outcome for each `host:port` (connected, refused, timeout, or the error code), as JSON. */
export function tcpProbeScript(endpoints: Array<{ host: string; port: number }>, timeoutMs = 2000): string {
  return `
const net = require('node:net');
const probe = ({ host, port }) => new Promise((resolve) => {
  const socket = net.connect({ host, port });
  const done = (outcome) => { clearTimeout(timer); socket.destroy(); resolve(outcome); };
  const timer = setTimeout(() => setImmediate(() => done('timeout')), ${timeoutMs});
  socket.once('connect', () => done('connected'));
  socket.once('error', (error) => done(error.code === 'ECONNREFUSED' ? 'refused' : String(error.code || error.message)));
});
const endpoints = ${JSON.stringify(endpoints)};
Promise.all(endpoints.map(probe)).then((outcomes) =>
  process.stdout.write(JSON.stringify(Object.fromEntries(endpoints.map((e, i) => [e.host + ':' + e.port, outcomes[i]])))));`;
}

/** Sends each raw request to the proxy and prints the status line of each answer, as JSON. */
export function connectProbeScript(proxy: { host: string; port: number }, requests: string[]): string {
  return `
const net = require('node:net');
const ask = (request) => new Promise((resolve) => {
  const socket = net.connect(${JSON.stringify(proxy)});
  let head = '';
  const timer = setTimeout(() => { socket.destroy(); resolve('timeout'); }, 10000);
  socket.on('data', (chunk) => { head += chunk; if (head.includes('\\r\\n')) { clearTimeout(timer); socket.destroy(); resolve(head.split('\\r\\n')[0]); } });
  socket.on('error', (error) => { clearTimeout(timer); resolve(String(error.code)); });
  socket.write(request);
});
(async () => {
  const answers = [];
  for (const request of ${JSON.stringify(requests)}) answers.push(await ask(request));
  process.stdout.write(JSON.stringify(answers));
})();`;
}

/** A hardened node container on the default bridge; `script` is its whole program. */
async function nodeOnDefaultBridge(image: string, script: string, labels: Record<string, string>): Promise<Docker.Container> {
  return docker.createContainer({
    Image: image,
    Entrypoint: ['/usr/local/bin/node', '-e', script],
    Cmd: [],
    User: '10001:10001',
    Labels: { ...labels, 'io.agentfleet.test-probe': 'true' },
    HostConfig: { NetworkMode: 'bridge', CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true, Memory: 256 * 1024 * 1024 },
  });
}

/** A TCP server on the routed default bridge: the address an agent on an open network could reach. */
export async function startOutsideServer(image: string, labels: Record<string, string>): Promise<{ ip: string; port: number; stop(): Promise<void> }> {
  const server = await nodeOnDefaultBridge(image, "require('node:net').createServer((s) => s.end('outside\\n')).listen(8080)", labels);
  await server.start();
  const ip = (await server.inspect()).NetworkSettings.Networks['bridge']?.IPAddress ?? '';
  return { ip, port: 8080, stop: () => server.remove({ force: true }).then(() => undefined) };
}

/** Runs `script` in a container on the default bridge (a routed network) and returns its stdout. */
export async function runNodeOnDefaultBridge(image: string, script: string, labels: Record<string, string>): Promise<string> {
  const probe = await nodeOnDefaultBridge(image, script, labels);
  try {
    await probe.start();
    await probe.wait();
    const raw = await probe.logs({ stdout: true, stderr: false, follow: false });
    // Non-TTY logs are framed: 8-byte headers before each chunk.
    const chunks: Buffer[] = [];
    for (let offset = 0; offset + 8 <= raw.length; offset += 8 + raw.readUInt32BE(offset + 4)) {
      chunks.push(raw.subarray(offset + 8, offset + 8 + raw.readUInt32BE(offset + 4)));
    }
    return Buffer.concat(chunks).toString();
  } finally {
    await probe.remove({ force: true }).catch(() => undefined);
  }
}

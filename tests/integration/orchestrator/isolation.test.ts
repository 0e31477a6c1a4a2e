import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { createFleetFixture, docker, execNode, runNodeInNetworkOf, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';

type ProbeOutcome = 'connected' | 'refused' | 'timeout' | string;

interface ScanResult {
  /** `host:port` of every endpoint that accepted a connection. */
  open: string[];
  counts: Record<string, number>;
  elapsedMs: number;
}

/**
 * Runs in a probe container that shares A's network namespace (node, no shell): TCP connects to each endpoint with a short timeout and high
 * parallelism. A SYN dropped by Docker's isolation rules times out; a listening port on a local bridge
 * connects in well under a millisecond. A timer that fires while a finished connect still waits in the
 * event loop is decided only after the next poll phase (setImmediate), so CPU starvation (the agent has
 * half a core) cannot turn an open port into a timeout.
 */
const SCANNER = String.raw`
const net = require('node:net');
function probe(host, port, timeoutMs) {
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host, port });
    const done = (outcome) => { if (settled) return; settled = true; clearTimeout(timer); socket.destroy(); resolve(outcome); };
    const timer = setTimeout(() => setImmediate(() => done('timeout')), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', (error) => done(error.code === 'ECONNREFUSED' ? 'refused' : String(error.code || error.message)));
  });
}
async function scan({ host, range, canaries, parallel, timeoutMs }) {
  const endpoints = [];
  for (let port = range[0]; port <= range[1]; port++) endpoints.push({ host, port });
  // Canaries (known open ports) are spread through the scan, so they are probed under the same load.
  canaries.forEach((canary, index) => endpoints.splice(Math.floor(((index + 1) * endpoints.length) / (canaries.length + 1)), 0, canary));
  const started = Date.now();
  const open = [];
  const counts = {};
  let next = 0;
  async function worker() {
    while (next < endpoints.length) {
      const { host, port } = endpoints[next++];
      const outcome = await probe(host, port, timeoutMs);
      counts[outcome] = (counts[outcome] || 0) + 1;
      if (outcome === 'connected') open.push(host + ':' + port);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, endpoints.length) }, worker));
  return { open: open.sort(), counts, elapsedMs: Date.now() - started };
}
`;

/**
 * Scans `host` on every port of `range` from A's network namespace, with `canaries` mixed in. The scanner
 * is its own container (`NetworkMode: container:<A>`): it sees exactly what A sees, while its 4096 sockets
 * use its own memory limit, never the agent's 128 MiB.
 */
async function scanFrom(
  container: string,
  host: string,
  range: [number, number],
  canaries: Array<{ host: string; port: number }>,
): Promise<ScanResult> {
  // 4096 at a time: about 6 s for 65535 ports on two cores.
  const request = JSON.stringify({ host, range, canaries, parallel: 4096, timeoutMs: 300 });
  const output = await runNodeInNetworkOf(container, `${SCANNER}\nscan(${request}).then((r) => process.stdout.write(JSON.stringify(r)));`);
  return JSON.parse(output) as ScanResult;
}

/** Connect outcome for each `host:port`, from the container's network namespace. */
async function probeFrom(container: string, endpoints: Array<{ host: string; port: number }>): Promise<Record<string, ProbeOutcome>> {
  const script = `${SCANNER}
(async () => {
  const result = {};
  await Promise.all(${JSON.stringify(endpoints)}.map(async ({ host, port }) => { result[host + ':' + port] = await probe(host, port, 1500); }));
  process.stdout.write(JSON.stringify(result));
})();`;
  return JSON.parse(await runNodeInNetworkOf(container, script)) as Record<string, ProbeOutcome>;
}

function connectFromHost(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => finish(false), 2000);
    function finish(ok: boolean) {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function listenOnHost(host: string): Promise<{ host: string; port: number; server: net.Server }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined); // the probes close at once
    socket.end('host service\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return { host, port: (server.address() as net.AddressInfo).port, server };
}

/** The egress proxy and the Vault the agent was given (its environment holds their addresses, no secret). */
function listenerEndpoints(info: { Config: { Env?: string[] | null } }): Array<{ host: string; port: number }> {
  const env = new Map((info.Config.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  return ['HTTPS_PROXY', 'VAULT_ADDR'].map((name) => {
    const url = new URL(env.get(name) ?? assert.fail(`${name} is in the agent's environment`));
    return { host: url.hostname, port: Number(url.port) };
  });
}

interface ClientInfo {
  id: ClientId;
  container: string;
  ip: string;
  gateway: string;
  publishedPorts: number[];
}

async function describeClient(id: ClientId): Promise<ClientInfo> {
  const names = resourceNames(id);
  const info = await docker.getContainer(names.container).inspect();
  const endpoint = info.NetworkSettings.Networks[names.network];
  assert.ok(endpoint?.IPAddress, `${names.container} has an address on its own network`);
  const publishedPorts = Object.values(info.NetworkSettings.Ports ?? {})
    .flatMap((bindings) => bindings ?? [])
    .map((binding) => Number(binding.HostPort));
  return { id, container: names.container, ip: endpoint.IPAddress, gateway: endpoint.Gateway, publishedPorts };
}

describe('isolation between clients, seen from inside client A', () => {
  let fleet: FleetFixture;
  const used: ClientId[] = [];
  let a: ClientInfo;
  let b: ClientInfo;

  before(async () => {
    // The agents keep their default limits: the scans run in probe containers of their own (scanFrom).
    fleet = await createFleetFixture();
    const ids = [uniqueClientId('isoa'), uniqueClientId('isob')];
    used.push(...ids);
    const results = await Promise.all(ids.map((clientId) => fleet.orchestrator.provision.provision({ clientId, actor: 'test' })));
    assert.deepEqual(results.map((result) => result.outcome), ['provisioned', 'provisioned']);
    [a, b] = await Promise.all(ids.map(describeClient)) as [ClientInfo, ClientInfo];
  });
  after(() => fleet?.cleanup(used));

  test('B is reachable from the host but not from A on any TCP port 1-65535', async () => {
    // Positive controls: B really listens at that address, and the scan finds A's own open ports mixed
    // into it, so a scan that cannot see open ports would fail here rather than pass.
    assert.equal(await connectFromHost(b.ip, 8080), true, `the host reaches B at ${b.ip}:8080`);
    const canaries = [8080, 9464].map((port) => ({ host: a.ip, port }));
    const result = await scanFrom(a.container, b.ip, [1, 65_535], canaries);
    const probed = Object.values(result.counts).reduce((sum, count) => sum + count, 0);
    assert.equal(probed, 65_535 + canaries.length, 'every port was probed');
    assert.deepEqual(
      result.open,
      canaries.map((canary) => `${canary.host}:${canary.port}`).sort(),
      `only A's own ports connect, none of B (${b.ip}); outcomes ${JSON.stringify(result.counts)} in ${result.elapsedMs} ms`,
    );
  });

  test("B publishes no port on the host, and no agent port answers A on any gateway", async (t) => {
    // Client networks are internal (egress through the allow-listing proxy only), so Docker publishes
    // nothing: the host reaches B at its own address (the scan test above checks that it does).
    assert.deepEqual(b.publishedPorts, [], "B's ports are not published on the host");
    assert.deepEqual(a.publishedPorts, [], "A's ports are not published on the host");

    // 127.0.0.1 inside A is A itself; the host is reachable from A only as a gateway address.
    const gateways = [...new Set([a.gateway, b.gateway, '172.17.0.1'])];
    const endpoints = gateways.flatMap((host) => [8080, 9464].map((port) => ({ host, port })));
    const outcomes = await probeFrom(a.container, endpoints);
    t.diagnostic(`outcomes from A: ${JSON.stringify(outcomes)}`);
    assert.equal(Object.keys(outcomes).length, endpoints.length, 'every gateway endpoint was probed');
    const connected = Object.entries(outcomes).filter(([, outcome]) => outcome === 'connected');
    assert.deepEqual(connected, [], `an agent port answers on a gateway address: ${JSON.stringify(outcomes)}`);
  });

  test("of the host A reaches only what is bound to its own gateway: its egress proxy and Vault", async (t) => {
    // Host services as an operator's host has them: one bound to every address (as sshd is), reached from
    // A at any of the host's addresses, and one bound to B's gateway. Docker's isolation rules (FORWARD
    // only) would let A reach both.
    const everywhere = await listenOnHost('0.0.0.0');
    const onB = await listenOnHost(b.gateway);
    try {
      const hostServices = [a.gateway, b.gateway, '172.17.0.1'].map((host) => ({ host, port: everywhere.port })).concat([{ host: b.gateway, port: onB.port }]);
      for (const { host, port } of hostServices) assert.equal(await connectFromHost(host, port), true, `the host service answers on ${host}:${port}`);
      const ownListeners = listenerEndpoints(await docker.getContainer(a.container).inspect());
      const othersListeners = listenerEndpoints(await docker.getContainer(b.container).inspect());
      assert.deepEqual(ownListeners.map((endpoint) => endpoint.host), [a.gateway, a.gateway], "A's egress proxy and Vault are on its gateway");
      const outcomes = await probeFrom(a.container, [...hostServices, ...ownListeners, ...othersListeners]);
      t.diagnostic(`outcomes from A: ${JSON.stringify(outcomes)}`);
      const at = ({ host, port }: { host: string; port: number }) => outcomes[`${host}:${port}`];
      for (const listener of ownListeners) assert.equal(at(listener), 'connected', `A reaches its own ${listener.host}:${listener.port}`);
      for (const endpoint of [...hostServices, ...othersListeners]) {
        assert.equal(at(endpoint), 'timeout', `A's connection to ${endpoint.host}:${endpoint.port} is dropped`);
      }
    } finally {
      await Promise.all([everywhere, onB].map(({ server }) => new Promise((resolve) => server.close(resolve))));
    }
  });

  test("B's volume is not mounted in A, and A cannot see a file B writes to its volume", async () => {
    const names = { a: resourceNames(a.id), b: resourceNames(b.id) };
    const info = await docker.getContainer(a.container).inspect();
    assert.deepEqual(
      info.Mounts.map((mount) => [mount.Type, mount.Name, mount.Destination]),
      [['volume', names.a.volume, '/data']],
    );

    const marker = `isolation-${randomBytes(8).toString('hex')}`;
    await execNode(b.container, `require('node:fs').writeFileSync('/data/${marker}', 'b')`);
    const seen = JSON.parse(
      await execNode(
        a.container,
        `const fs = require('node:fs');
         process.stdout.write(JSON.stringify({ data: fs.readdirSync('/data'), mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8') }));`,
      ),
    ) as { data: string[]; mountinfo: string };
    assert.ok(!seen.data.includes(marker), "B's file is not in A's /data");
    assert.ok(seen.data.includes('config.sealed'), "A's /data is A's own volume");
    assert.ok(!seen.data.includes('config.yaml'), 'the config is in A’s volume sealed only');
    assert.ok(!seen.mountinfo.includes(names.b.volume), "no mount of A comes from B's volume");
    assert.ok(seen.mountinfo.includes(names.a.volume), "A's mount table names A's volume (so the check above can fail)");
  });

  test('A has no Docker socket, and no Docker API answers on any gateway', async () => {
    const files = JSON.parse(
      await execNode(
        a.container,
        `const fs = require('node:fs');
         process.stdout.write(JSON.stringify({
           sock: ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock'].filter((p) => fs.existsSync(p)),
           mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8'),
         }));`,
      ),
    ) as { sock: string[]; mountinfo: string };
    assert.deepEqual(files.sock, []);
    assert.ok(!/docker\.sock|containerd\.sock/.test(files.mountinfo), 'no runtime socket is mounted');

    const endpoints = [a.gateway, b.gateway, '172.17.0.1'].flatMap((host) => [2375, 2376].map((port) => ({ host, port })));
    const outcomes = await probeFrom(a.container, endpoints);
    assert.equal(Object.keys(outcomes).length, endpoints.length);
    for (const [endpoint, outcome] of Object.entries(outcomes)) assert.notEqual(outcome, 'connected', `Docker API port open at ${endpoint}`);
  });

  test('A cannot write its root filesystem, and /tmp is writable but noexec', async () => {
    const report = JSON.parse(
      await execNode(
        a.container,
        `const fs = require('node:fs');
         const { spawnSync } = require('node:child_process');
         const attempt = (path) => { try { fs.writeFileSync(path, 'x'); fs.rmSync(path); return 'written'; } catch (e) { return e.code; } };
         const writes = Object.fromEntries(['/app/probe', '/probe', '/etc/probe', '/usr/local/bin/probe'].map((p) => [p, attempt(p)]));
         const data = attempt('/data/probe');
         fs.writeFileSync('/tmp/probe.js', '#!/usr/local/bin/node\\nprocess.exit(0)\\n', { mode: 0o755 });
         const run = spawnSync('/tmp/probe.js');
         const tmpMount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').map((l) => l.split(' ')).find((f) => f[4] === '/tmp');
         const rootMount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').map((l) => l.split(' ')).find((f) => f[4] === '/');
         process.stdout.write(JSON.stringify({ writes, data, exec: run.error ? run.error.code : run.status, tmpOptions: tmpMount && tmpMount[5], rootOptions: rootMount && rootMount[5] }));`,
      ),
    ) as { writes: Record<string, string>; data: string; exec: string | number; tmpOptions?: string; rootOptions?: string };
    for (const [path, outcome] of Object.entries(report.writes)) assert.equal(outcome, 'EROFS', `writing ${path}`);
    assert.equal(report.data, 'written', "A's own volume is writable");
    assert.ok(report.rootOptions?.split(',').includes('ro'), `root mount options ${report.rootOptions}`);
    assert.ok(report.tmpOptions?.split(',').includes('noexec'), `/tmp mount options ${report.tmpOptions}`);
    assert.ok(report.tmpOptions?.split(',').includes('nosuid'), `/tmp mount options ${report.tmpOptions}`);
    assert.equal(report.exec, 'EACCES', 'a program in /tmp cannot be executed');
  });

  test('every process in A runs as uid 10001 with no capabilities and no-new-privileges', async () => {
    const statuses = JSON.parse(
      await execNode(
        a.container,
        `const fs = require('node:fs');
         const result = {};
         for (const pid of fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name))) {
           try { result[pid] = fs.readFileSync('/proc/' + pid + '/status', 'utf8'); } catch {}
         }
         process.stdout.write(JSON.stringify(result));`,
      ),
    ) as Record<string, string>;
    const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
    const names = Object.values(statuses).map((status) => field(status, 'Name'));
    // docker-init, the agent and this exec (node names its main thread "MainThread").
    assert.ok(names.includes('docker-init') && names.length >= 3, `init, the agent and this exec are visible: ${names.join(', ')}`);
    for (const [pid, status] of Object.entries(statuses)) {
      const who = `pid ${pid} (${field(status, 'Name')})`;
      assert.deepEqual(field(status, 'Uid')?.split(/\s+/), ['10001', '10001', '10001', '10001'], `${who} uid`);
      assert.deepEqual(field(status, 'Gid')?.split(/\s+/), ['10001', '10001', '10001', '10001'], `${who} gid`);
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
        assert.equal(field(status, set), '0000000000000000', `${who} ${set}`);
      }
      assert.equal(field(status, 'NoNewPrivs'), '1', `${who} NoNewPrivs`);
    }
  });
});

// TLS on every hop of a provisioned Docker agent: its control API and the embedded Vault listener on its
// network's gateway speak TLS 1.3 only; its key is in neither its environment nor its volume; rotation
// renews its certificate; the orchestrator refuses an agent that is not the one it means, and an agent
// handed another client's certificate refuses to start.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { AGENT_TLS_HANDOVER_FILE } from '@agent-fleet/kernel/agent-identity';
import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { agentCall } from '../../helpers/agent-tls.ts';
import { createFleetFixture, docker, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { handshake, plainHttpGet, tls12Handshake } from './tls-probes.ts';

const hostPort = (address: string) => {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
};

/** Every file in the client's volume: name and content. */
async function volumeFiles(fleet: FleetFixture, clientId: ClientId): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, stream: Readable, next: () => void) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => {
      if (header.type === 'file') files.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
      next();
    });
  });
  await pipeline((await fleet.orchestrator.runtime.volumes.snapshot(clientId, fleet.config.agent.image)) as Readable, extract);
  return files;
}

async function waitForExit(container: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { State } = await docker.getContainer(container).inspect();
    if (!State.Running && State.Status !== 'created') return State.ExitCode;
    if (Date.now() > deadline) throw new Error(`${container} still runs`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('TLS on the hops of a provisioned agent (real Docker)', () => {
  let fleet: FleetFixture;
  let caPem: string;
  const used: ClientId[] = [];
  const control = new Map<ClientId, string>();
  const [a, b] = [uniqueClientId('tlsa'), uniqueClientId('tlsb')];

  before(async () => {
    fleet = await createFleetFixture();
    caPem = fleet.orchestrator.tls.ca.certificatePem;
    for (const clientId of [a, b]) {
      used.push(clientId);
      const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'tls-test' });
      assert.ok(result.outcome === 'provisioned');
      control.set(clientId, result.controlAddress);
    }
  });
  after(() => fleet?.cleanup(used));

  const served = async (clientId: ClientId) => {
    const { host, port } = hostPort(control.get(clientId) ?? '');
    return (await handshake(port, { host, ca: caPem, checkServerIdentity: () => undefined })).peer;
  };

  test('the control API serves TLS 1.3 with a certificate naming its client; TLS 1.2 and plain HTTP are refused', async () => {
    const { host, port } = hostPort(control.get(a) ?? '');
    const good = await handshake(port, { host, ca: caPem, checkServerIdentity: () => undefined });
    assert.equal(good.protocol, 'TLSv1.3');
    assert.equal(good.peer.subjectaltname, `URI:spiffe://agent-fleet/client/${a}, DNS:${a}.agents.fleet.internal`);
    await assert.rejects(tls12Handshake(port, caPem, host), /protocol/i);
    await assert.rejects(plainHttpGet(port, '/healthz', host));
    assert.equal((await agentCall(caPem, a, control.get(a) ?? '', '/readyz')).status, 200, 'introduced over TLS and ready');
  });

  test('the embedded Vault on the client network’s gateway serves TLS 1.3 for that address only', async () => {
    const env = (await docker.getContainer(resourceNames(a).container).inspect()).Config.Env;
    const vaultAddr = new URL(env.find((entry) => entry.startsWith('VAULT_ADDR='))?.slice('VAULT_ADDR='.length) ?? '');
    assert.equal(vaultAddr.protocol, 'https:');
    const port = Number(vaultAddr.port);
    const good = await handshake(port, { host: vaultAddr.hostname, ca: caPem });
    assert.equal(good.protocol, 'TLSv1.3');
    assert.equal(good.peer.subjectaltname, `IP Address:${vaultAddr.hostname}`);
    await assert.rejects(tls12Handshake(port, caPem, vaultAddr.hostname), /protocol/i);
    await assert.rejects(plainHttpGet(port, '/v1/sys/health', vaultAddr.hostname));
  });

  test('the agent’s key is in neither `docker inspect` nor its volume; the handover is gone once used', async () => {
    const info = await docker.getContainer(resourceNames(a).container).inspect();
    const inspected = JSON.stringify(info);
    for (const marker of ['PRIVATE KEY', 'BEGIN CERTIFICATE']) assert.ok(!inspected.includes(marker), `no ${marker} in docker inspect`);
    assert.ok(info.Config.Env.includes('VAULT_CACERT=/data/vault-ca.pem'));
    const files = await volumeFiles(fleet, a);
    assert.ok(!files.has(AGENT_TLS_HANDOVER_FILE), 'the single-use handover token was removed');
    for (const [name, content] of files) assert.ok(!content.includes('PRIVATE KEY'), `no private key in ${name}`);
    assert.equal(files.get('vault-ca.pem')?.toString(), caPem, 'only the public CA certificate');
  });

  test('credential rotation renews the agent’s certificate; the agent stays ready and named', async () => {
    const before = await served(a);
    await fleet.orchestrator.rotate.rotate({ clientId: a, reason: 'tls test', actor: 'tls-test' });
    const after = await served(a);
    assert.notEqual(after.serialNumber, before.serialNumber, 'a new certificate');
    assert.equal(after.subjectaltname, before.subjectaltname);
    assert.ok(new Date(after.valid_to) >= new Date(before.valid_to));
    assert.equal((await agentCall(caPem, a, control.get(a) ?? '', '/readyz')).status, 200);
  });

  test('the orchestrator refuses the agent of another client at the address it asked for', async () => {
    const token = (await fleet.orchestrator.secretBackend.store.readControlToken(a)) ?? '';
    await assert.rejects(fleet.orchestrator.control.request(a, control.get(b) ?? '', token, 'GET', '/v1/status'), {
      code: 'integrity',
      message: new RegExp(`names the agent of ${b}, not ${a}`),
    });
    assert.equal(await fleet.orchestrator.health.isHealthy(a, control.get(b) ?? ''), false);
    assert.equal(await fleet.orchestrator.health.isHealthy(b, control.get(b) ?? ''), true);
  });

  test('an agent handed a certificate for another client’s id refuses to start; reconcile brings it back with its own', async () => {
    const container = resourceNames(b).container;
    await fleet.orchestrator.runtime.stopAgent(b, 2);
    const foreign = await fleet.orchestrator.tls.ca.issueAgentCertificate(a, new Date());
    await fleet.orchestrator.secretBackend.agentTls.store(b, foreign);
    const { wrappingToken } = await fleet.orchestrator.secretBackend.agentTls.wrapRead(b, 60);
    await fleet.orchestrator.runtime.placeFiles(b, { [AGENT_TLS_HANDOVER_FILE]: wrappingToken }, fleet.config.agent.user);
    await docker.getContainer(container).start(); // the engine directly: no fresh handover of its own
    assert.equal(await waitForExit(container), 1);
    const logs = (await docker.getContainer(container).logs({ stdout: true, stderr: true })).toString();
    assert.match(logs, new RegExp(`names the agent of ${a}, not ${b}`));
    assert.ok(!logs.includes('PRIVATE KEY'));

    const report = await fleet.orchestrator.reconcile.reconcile();
    assert.ok(report.actions.some((action) => action.clientId === b && action.kind === 'restarted'), JSON.stringify(report));
    const state = await fleet.orchestrator.runtime.inspectAgent(b);
    control.set(b, state?.endpoints?.control ?? '');
    assert.equal((await served(b)).subjectaltname, `URI:spiffe://agent-fleet/client/${b}, DNS:${b}.agents.fleet.internal`);
    assert.equal((await agentCall(caPem, b, control.get(b) ?? '', '/readyz')).status, 200);
  });
});

describe('certificates follow the wall clock', () => {
  test('an orchestrator whose own clock runs hours ahead (a test clock) still dates certificates its agents accept', async () => {
    const clientId = uniqueClientId('tlsclock');
    const ahead = { now: () => new Date(Date.now() + 6 * 3_600_000) };
    const fleet = await createFleetFixture({}, { clock: ahead });
    try {
      const result = await fleet.orchestrator.provision.provision({ clientId, actor: 'tls-test' });
      assert.ok(result.outcome === 'provisioned');
      const { host, port } = hostPort(result.controlAddress);
      const { peer } = await handshake(port, { host, ca: fleet.orchestrator.tls.ca.certificatePem, checkServerIdentity: () => undefined });
      assert.ok(new Date(peer.valid_from) <= new Date(), `valid from ${peer.valid_from}, not from the shifted clock`);
    } finally {
      await fleet.cleanup([clientId]);
    }
  });
});

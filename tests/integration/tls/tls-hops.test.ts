// TLS on the hops the fleet serves, in process: the embedded Vault and an agent's control API speak TLS
// 1.3 only, each with a fleet-CA certificate for what it is; the orchestrator talks only to the agent it
// means; an agent serves only a certificate that names its own client; the Docker handover is single-use.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkServerIdentity } from 'node:tls';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createVaultClient } from '@agent-fleet/kernel/vault-client';
import { redeemTlsHandover } from '../../../agent-image/src/adapters/vault/agent-tls-bundle.ts';
import { newAgentConfigKey } from '@agent-fleet/kernel/sealed-agent-config';
import { ControlTls } from '../../../agent-image/src/http/control-tls.ts';
import { createEphemeralFleetCa } from '../../../orchestrator/src/adapters/fleet-ca/fleet-ca.ts';
import { HttpAgentControl } from '../../../orchestrator/src/adapters/http/http-agent-control.ts';
import { HttpAgentHealthProbe } from '../../../orchestrator/src/adapters/http/http-agent-health-probe.ts';
import { VaultAgentTls } from '../../../orchestrator/src/adapters/vault/vault-agent-tls.ts';
import { agentBundle, testFleetCa } from '../../helpers/agent-tls.ts';
import { agentBed } from '../../helpers/agent-bed.ts';
import { clientConfig, uniqueClient, type AgentUnderTest } from '../agent/agent-harness.ts';
import { handshake, plainHttpGet, tls12Handshake } from './tls-probes.ts';

const portOf = (url: string) => Number(new URL(url).port);
const serial = (pem: string) => new X509Certificate(pem).serialNumber;

describe('TLS 1.3 only, with certificates from the fleet CA', () => {
  const bed = agentBed();
  let agent: AgentUnderTest;
  let caPem: string;

  before(async () => {
    caPem = (await testFleetCa()).certificatePem;
    agent = await bed.startAgent({ config: clientConfig(uniqueClient(), 'agent@acme.example', 'gmail'), withoutSecrets: true });
  });

  test('the embedded Vault: TLS 1.3 with the fleet CA is served; TLS 1.2, plain HTTP and an untrusting client are refused', async () => {
    const port = portOf(bed.vault.vault.url);
    const good = await handshake(port, { ca: caPem });
    assert.equal(good.protocol, 'TLSv1.3');
    assert.equal(good.peer.subjectaltname, 'IP Address:127.0.0.1, DNS:localhost');
    await assert.rejects(tls12Handshake(port, caPem), /protocol/i, 'a TLS 1.2 client');
    await assert.rejects(plainHttpGet(port, '/v1/sys/health'), 'a plain-HTTP client gets no HTTP answer');
    await assert.rejects(handshake(port, {}), /self-signed|unable to verify|certificate/i, 'not trusted without the fleet CA');
    const health = await createVaultClient({ endpoint: bed.vault.vault.url, caPem }).read('sys/health');
    assert.equal((health as { sealed: boolean }).sealed, false, 'node-vault verifies it against the CA');
    await assert.rejects(createVaultClient({ endpoint: bed.vault.vault.url }).read('sys/health'), /self-signed|unable to verify|certificate/i);
  });

  test('each embedded Vault listener’s certificate names its own address, so it is not good for another gateway’s', async () => {
    const url = await bed.vault.vault.addListener('127.0.0.2', 0);
    const { peer } = await handshake(portOf(url), { host: '127.0.0.2', ca: caPem });
    assert.equal(peer.subjectaltname, 'IP Address:127.0.0.2, DNS:localhost', 'its address (and localhost, being loopback)');
    assert.ok(checkServerIdentity('127.0.0.2', peer) === undefined);
    assert.ok(checkServerIdentity('127.0.0.1', peer) instanceof Error);
    await assert.rejects(tls12Handshake(portOf(url), caPem, '127.0.0.2'), /protocol/i);
  });

  test('the control API: TLS 1.3 with a certificate naming its client; TLS 1.2 and plain HTTP are refused', async () => {
    const port = portOf(agent.url);
    const good = await handshake(port, { ca: caPem, checkServerIdentity: () => undefined });
    assert.equal(good.protocol, 'TLSv1.3');
    assert.equal(good.peer.subjectaltname, `URI:spiffe://agent-fleet/client/${agent.id}, DNS:${agent.id}.agents.fleet.internal`);
    await assert.rejects(tls12Handshake(port, caPem), /protocol/i, 'a TLS 1.2 client');
    await assert.rejects(plainHttpGet(port, '/healthz'), 'a plain-HTTP client gets no HTTP answer');
    assert.equal((await agent.call('GET', '/healthz', undefined, null)).status, 200);
  });

  test('the orchestrator refuses an agent whose certificate names another client', async () => {
    const address = new URL(agent.url).host;
    const other = parseClientId('someone-else');
    const control = new HttpAgentControl({ caPem });
    await assert.rejects(control.request(other, address, agent.controlToken, 'GET', '/v1/status'), {
      code: 'integrity',
      message: new RegExp(`names the agent of ${agent.id}, not someone-else`),
    });
    await assert.rejects(control.waitReady(other, address, 5000), { code: 'integrity' });
    await assert.rejects(control.introduce(other, address, { wrappingToken: 'w', vaultAddr: bed.vault.vault.url, creationPath: 'x' }), { code: 'integrity' });
    const probe = new HttpAgentHealthProbe({ caPem });
    assert.equal(await probe.isHealthy(other, address), false);
    assert.equal(await probe.isHealthy(agent.id, address), true, 'the same agent, asked for as itself');
    const strangers = new HttpAgentControl({ caPem: (await createEphemeralFleetCa(new Date())).certificatePem });
    await assert.rejects(strangers.request(agent.id, address, agent.controlToken, 'GET', '/v1/status'), { code: 'unavailable', message: /certificate/ }, 'another CA’s agent');
  });

  test('an agent refuses a certificate for another client’s id: at start, and as a renewal (it keeps its own)', async () => {
    const other = parseClientId('someone-else');
    const foreign = await agentBundle(other);
    assert.throws(() => new ControlTls(foreign, { clientId: agent.id }), {
      code: 'integrity',
      message: /names the agent of someone-else/,
    });
    const served = async () => (await handshake(portOf(agent.url), { ca: caPem, checkServerIdentity: () => undefined })).peer.serialNumber;
    const before = await served();
    assert.equal(agent.tls.offer(foreign, createSilentLogger()), false);
    assert.equal(await served(), before, 'still its own certificate');
    // A renewal from Vault (what a rotation stores, read after the next introduction) is taken.
    const renewal = await agentBundle(agent.id);
    await new VaultAgentTls({ client: bed.vault.admin, logger: createSilentLogger() }).store(agent.id, renewal);
    assert.equal(await agent.introduce(), 204);
    assert.equal(await served(), serial(renewal.certificatePem));
    // A bundle for another client stored in its path is refused the same way.
    await new VaultAgentTls({ client: bed.vault.admin, logger: createSilentLogger() }).store(agent.id, foreign);
    assert.equal(await agent.introduce(), 204, 'the introduction itself still succeeds');
    assert.equal(await served(), serial(renewal.certificatePem), 'the foreign certificate is never served');
  });
});

describe('the Docker handover of an agent’s TLS bundle', () => {
  const bed = agentBed();
  let dir: string;
  let store: VaultAgentTls;
  const acme = parseClientId('handover-acme');
  const globex = parseClientId('handover-globex');

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tls-handover-'));
    store = new VaultAgentTls({ client: bed.vault.admin, logger: createSilentLogger() });
    await bed.vault.store.ensureClient(acme);
    await bed.vault.store.ensureClient(globex);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const place = async (token: string) => {
    const file = path.join(dir, 'tls.wrap');
    await writeFile(file, token, { mode: 0o640 });
    return file;
  };
  const redeem = (file: string, clientId = acme) =>
    redeemTlsHandover({ clientId, file, vaultAddr: bed.vault.vault.url, caPem: bed.vault.vault.caCertificatePem, logger: async () => createSilentLogger(), waitMs: 0 });

  test('a handover is redeemed once: the file is gone from the volume and the same token does not unwrap again', async () => {
    const bundle = await agentBundle(acme);
    await store.store(acme, bundle);
    const { wrappingToken, creationPath } = await store.wrapRead(acme, 60);
    assert.equal(creationPath, `fleet/data/${acme}/tls/agent`);
    assert.ok(!wrappingToken.includes('PRIVATE'), 'the handover is a token, not the key');
    const file = await place(wrappingToken);
    const { certificatePem, privateKeyPem, caCertificatePem } = bundle;
    assert.deepEqual(await redeem(file), { bundle: { certificatePem, privateKeyPem, caCertificatePem }, configKey: null });
    await assert.rejects(stat(file), { code: 'ENOENT' }, 'removed before use');
    await assert.rejects(redeem(await place(wrappingToken)), (error: Error) => /not valid|does not exist|400/.test(error.message));
    await assert.rejects(redeem(path.join(dir, 'missing.wrap')), { code: 'unavailable' }, 'no handover, no TLS');
  });

  test('the key of the config sealed in the volume comes with the same single-use handover', async () => {
    const configKey = newAgentConfigKey();
    await store.store(acme, { ...(await agentBundle(acme)), configKey });
    const { wrappingToken } = await store.wrapRead(acme, 60);
    const redeemed = await redeem(await place(wrappingToken));
    assert.equal(redeemed.configKey, configKey);
    assert.ok(!wrappingToken.includes(configKey), 'the handover is a token, not the key');
  });

  test('a handover made for another client’s path is refused before it is unwrapped', async () => {
    await store.store(globex, await agentBundle(globex));
    const { wrappingToken } = await store.wrapRead(globex, 60);
    await assert.rejects(redeem(await place(wrappingToken)), { code: 'integrity', message: /not made by a read of fleet\/data\/handover-acme\/tls\/agent/ });
    assert.equal((await redeem(await place(wrappingToken), globex)).bundle.certificatePem.length > 0, true, 'and left unconsumed for its own agent');
  });

  test('a bundle naming another client, handed over in this client’s path, is refused by the agent', async () => {
    await store.store(acme, await agentBundle(globex));
    const { wrappingToken } = await store.wrapRead(acme, 60);
    const { bundle } = await redeem(await place(wrappingToken));
    assert.throws(() => new ControlTls(bundle, { clientId: acme }), { code: 'integrity', message: /names the agent of handover-globex, not handover-acme/ });
  });
});

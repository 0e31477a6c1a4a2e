// The fleet CA's certificates and the agent identity rules both sides apply: what each certificate names,
// what it is good for, and every way a bundle that is not this client's agent's is refused.
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  agentCertificateNames,
  agentClientIdsNamed,
  agentIdentityMismatch,
  checkAgentTlsBundle,
} from '@agent-fleet/kernel/agent-identity';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  AGENT_CERT_VALID_DAYS,
  SERVER_CERT_VALID_DAYS,
  createEphemeralFleetCa,
  loadOrCreateFleetCa,
} from '../../../orchestrator/src/adapters/fleet-ca/fleet-ca.ts';
import { certificateNamesFor } from '../../../orchestrator/src/adapters/embedded-vault/tls-listener.ts';

const acme = parseClientId('acme');
const globex = parseClientId('globex');
const NOW = new Date('2026-12-10T12:00:00.000Z');
const DAY_MS = 86_400_000;

function refusal(run: () => void): string {
  try {
    run();
  } catch (error) {
    assert.ok(isFleetError(error) && error.code === 'integrity', `an integrity error, not ${String(error)}`);
    return error.message;
  }
  return assert.fail('expected a refusal');
}

describe('fleet CA issuance', () => {
  test('an agent certificate names its client twice (URI and DNS) and nothing else, for TLS servers only', async () => {
    const ca = await createEphemeralFleetCa(NOW);
    const issued = await ca.issueAgentCertificate(acme, NOW);
    const certificate = new X509Certificate(issued.certificatePem);
    assert.equal(certificate.subjectAltName, 'URI:spiffe://agent-fleet/client/acme, DNS:acme.agents.fleet.internal');
    assert.deepEqual(agentCertificateNames(acme), { uri: 'spiffe://agent-fleet/client/acme', dns: 'acme.agents.fleet.internal' });
    assert.equal(certificate.ca, false);
    assert.deepEqual(certificate.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth only');
    assert.ok(certificate.verify(new X509Certificate(ca.certificatePem).publicKey), 'signed by the fleet CA');
    assert.ok(certificate.checkPrivateKey(createPrivateKey(issued.privateKeyPem)));
    assert.equal(issued.caCertificatePem, ca.certificatePem);
    assert.equal(new Date(certificate.validTo).getTime(), Math.floor((NOW.getTime() + AGENT_CERT_VALID_DAYS * DAY_MS) / 1000) * 1000);
    assert.equal(issued.notAfter.getTime(), NOW.getTime() + AGENT_CERT_VALID_DAYS * DAY_MS);
  });

  test('every issuance has its own key and serial', async () => {
    const ca = await createEphemeralFleetCa(NOW);
    const [one, two] = await Promise.all([ca.issueAgentCertificate(acme, NOW), ca.issueAgentCertificate(acme, NOW)]);
    assert.notEqual(one.privateKeyPem, two.privateKeyPem);
    assert.notEqual(new X509Certificate(one.certificatePem).serialNumber, new X509Certificate(two.certificatePem).serialNumber);
  });

  test('a server certificate names exactly its addresses (IP and DNS entries) and is short-lived', async () => {
    const ca = await createEphemeralFleetCa(NOW);
    const server = await ca.issueServerCertificate(['10.213.0.1'], NOW);
    const [leaf, chained] = server.certificateChainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const certificate = new X509Certificate(leaf ?? '');
    assert.equal(certificate.subjectAltName, 'IP Address:10.213.0.1');
    assert.equal(chained, ca.certificatePem, 'the chain ends with the CA');
    assert.equal(certificate.checkIP('10.213.0.1'), '10.213.0.1');
    assert.equal(certificate.checkIP('10.213.0.17'), undefined, 'not another network’s gateway');
    assert.deepEqual(agentClientIdsNamed(certificate.subjectAltName), [], 'names no agent');
    assert.equal(server.notAfter.getTime(), NOW.getTime() + SERVER_CERT_VALID_DAYS * DAY_MS);
    const loopback = new X509Certificate((await ca.issueServerCertificate(certificateNamesFor('127.0.0.1'), NOW)).certificateChainPem);
    assert.equal(loopback.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
    await assert.rejects(ca.issueServerCertificate([], NOW), { code: 'invalid_input' });
  });

  test('each embedded Vault listener’s certificate names its own address; loopback also localhost', () => {
    assert.deepEqual(certificateNamesFor('10.213.0.1'), ['10.213.0.1']);
    assert.deepEqual(certificateNamesFor('127.0.0.1'), ['127.0.0.1', 'localhost']);
    assert.deepEqual(certificateNamesFor('localhost'), ['localhost', '127.0.0.1']);
    assert.deepEqual(certificateNamesFor('::1'), ['::1', 'localhost']);
  });

  test('the CA key is sealed at rest and the same CA opens again; another sealing key does not open it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-ca-unit-'));
    try {
      const key = Buffer.alloc(32, 7);
      const first = await loadOrCreateFleetCa(dir, key, NOW);
      const sealed = await readFile(path.join(dir, 'ca.key.sealed'), 'utf8');
      assert.ok(!sealed.includes('PRIVATE KEY'));
      const again = await loadOrCreateFleetCa(dir, key, NOW);
      assert.equal(again.certificatePem, first.certificatePem);
      const issued = await again.issueAgentCertificate(acme, NOW);
      assert.ok(new X509Certificate(issued.certificatePem).verify(new X509Certificate(first.certificatePem).publicKey));
      await assert.rejects(loadOrCreateFleetCa(dir, Buffer.alloc(32, 8), NOW), { code: 'integrity' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('agent identity checks', () => {
  test('a subjectAltName identifies an agent only when it names exactly the expected client', () => {
    const both = 'URI:spiffe://agent-fleet/client/acme, DNS:acme.agents.fleet.internal';
    assert.equal(agentIdentityMismatch(both, acme), null);
    assert.equal(agentIdentityMismatch('URI:spiffe://agent-fleet/client/acme', acme), null);
    assert.equal(agentIdentityMismatch('DNS:acme.agents.fleet.internal', acme), null);
    assert.match(agentIdentityMismatch(both, globex) ?? '', /names the agent of acme, not globex/);
    assert.match(agentIdentityMismatch(`${both}, URI:spiffe://agent-fleet/client/globex`, acme) ?? '', /globex/, 'two clients: refused');
    assert.match(agentIdentityMismatch('DNS:localhost, IP Address:127.0.0.1', acme) ?? '', /names no agent/);
    assert.match(agentIdentityMismatch(undefined, acme) ?? '', /names no agent/);
    assert.match(agentIdentityMismatch('URI:spiffe://agent-fleet/client/acmex', acme) ?? '', /acmex/, 'no prefix match');
    assert.match(agentIdentityMismatch('DNS:acme.agents.fleet.internal.evil.example', acme) ?? '', /names no agent/);
    assert.deepEqual(agentClientIdsNamed('URI:"spiffe://agent-fleet/client/acme"'), ['acme'], 'Node quotes some values');
  });

  test('a bundle is served only when it is this client’s, signed by its CA, valid now and holds its own key', async () => {
    const ca = await createEphemeralFleetCa(NOW);
    const other = await createEphemeralFleetCa(NOW);
    const bundle = await ca.issueAgentCertificate(acme, NOW);
    checkAgentTlsBundle(bundle, acme, NOW);
    assert.match(refusal(() => checkAgentTlsBundle(bundle, globex, NOW)), /names the agent of acme, not globex/);
    const foreign = await other.issueAgentCertificate(acme, NOW);
    assert.match(refusal(() => checkAgentTlsBundle({ ...foreign, caCertificatePem: ca.certificatePem }, acme, NOW)), /not signed by its fleet CA/);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.match(refusal(() => checkAgentTlsBundle({ ...bundle, privateKeyPem: stranger }, acme, NOW)), /private key is not the certificate’s/);
    const later = new Date(NOW.getTime() + (AGENT_CERT_VALID_DAYS + 1) * DAY_MS);
    assert.match(refusal(() => checkAgentTlsBundle(bundle, acme, later)), /valid/);
    assert.match(refusal(() => checkAgentTlsBundle({ ...bundle, certificatePem: 'not a certificate' }, acme, NOW)), /readable/);
    const server = await ca.issueServerCertificate(['127.0.0.1'], NOW);
    assert.match(refusal(() => checkAgentTlsBundle({ ...bundle, certificatePem: server.certificateChainPem, privateKeyPem: server.privateKeyPem }, acme, NOW)), /names no agent/);
  });
});

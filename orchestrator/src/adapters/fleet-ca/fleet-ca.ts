import { webcrypto } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { agentCertificateNames, type AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import { writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { seal, unseal } from '../../portal/crypto/sealed-box.ts';
import { loadPortalKeys } from '../../portal/crypto/portal-keys.ts';
import { ALGORITHM, createCaCertificate, generateKeys, hostNames, issueServerLeaf, x509 } from './x509-issue.ts';

const CA_VALID_DAYS = 3650;
/** Server certificates (portal, embedded Vault listeners) are short-lived and made anew at each start. */
export const SERVER_CERT_VALID_DAYS = 30;
/**
 * Agent certificates are made at every start and renewed at each credential rotation (monthly by
 * default): 90 days leave room for two missed rotations before a running agent's certificate lapses.
 */
export const AGENT_CERT_VALID_DAYS = 90;
const CA_KEY_PURPOSE = 'fleet-ca-key';

export interface ServerCertificate {
  /** Leaf then CA certificate, PEM. */
  certificateChainPem: string;
  /** PKCS#8 PEM; kept in memory only. */
  privateKeyPem: string;
  notAfter: Date;
}

/** An agent's bundle as issued, with its expiry. */
export type IssuedAgentCertificate = AgentTlsBundle & { notAfter: Date };

/**
 * The fleet's own certificate authority: it signs the portal's and the embedded Vault's server
 * certificates and each agent's (which names its client id, see kernel agent-identity).
 */
export interface FleetCa {
  certificatePem: string;
  issueServerCertificate(names: readonly string[], now: Date): Promise<ServerCertificate>;
  /** A certificate for client `clientId`'s agent: URI spiffe://agent-fleet/client/<id> and DNS <id>.agents.fleet.internal. */
  issueAgentCertificate(clientId: ClientId, now: Date): Promise<IssuedAgentCertificate>;
}

function fleetCaOf(certificate: x509.X509Certificate, privateKey: webcrypto.CryptoKey): FleetCa {
  const certificatePem = certificate.toString('pem') + '\n';
  const ca = { certificate, privateKey };
  return {
    certificatePem,
    async issueServerCertificate(names, now) {
      if (names.length === 0) throw new FleetError('invalid_input', 'a server certificate needs at least one name');
      const first = names[0] ?? 'localhost';
      const leaf = await issueServerLeaf(
        ca,
        { commonName: isIP(first) ? 'agent-fleet server' : first, names: hostNames(names) },
        now,
        SERVER_CERT_VALID_DAYS,
      );
      return { certificateChainPem: `${leaf.certificatePem}${certificatePem}`, privateKeyPem: leaf.privateKeyPem, notAfter: leaf.notAfter };
    },
    async issueAgentCertificate(clientId, now) {
      const { uri, dns } = agentCertificateNames(clientId);
      const leaf = await issueServerLeaf(
        ca,
        { commonName: dns, names: [{ type: 'url', value: uri }, { type: 'dns', value: dns }] },
        now,
        AGENT_CERT_VALID_DAYS,
      );
      return { certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem, caCertificatePem: certificatePem, notAfter: leaf.notAfter };
    },
  };
}

/**
 * The fleet CA at `<dir>/ca.crt` (public) and `<dir>/ca.key.sealed` (the PKCS#8 private key sealed with
 * AES-256-GCM under `sealingKey`), made at first start. A CA key that does not open (other key, changed
 * bytes) stops the start: nothing is silently replaced.
 */
export async function loadOrCreateFleetCa(dir: string, sealingKey: Buffer, now: Date): Promise<FleetCa> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = path.join(dir, 'ca.crt');
  const keyPath = path.join(dir, 'ca.key.sealed');
  const existing = await readFile(certPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing === null) {
    const keys = await generateKeys();
    const certificate = await createCaCertificate(keys, now, CA_VALID_DAYS);
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    await writeFileAtomically(keyPath, seal(sealingKey, pkcs8, CA_KEY_PURPOSE), { mode: 0o600 });
    await writeFileAtomically(certPath, certificate.toString('pem') + '\n', { mode: 0o644 });
    return fleetCaOf(certificate, keys.privateKey);
  }
  const sealed = await readFile(keyPath, 'utf8').catch((error: unknown) => {
    throw new FleetError('integrity', `the fleet CA key ${keyPath} is missing beside ${certPath}`, { cause: error });
  });
  const pkcs8 = unseal(sealingKey, sealed.trim(), CA_KEY_PURPOSE);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, ALGORITHM, false, ['sign']);
  return fleetCaOf(new x509.X509Certificate(existing), privateKey);
}

/**
 * The fleet CA of an orchestrator home: `<portalDataDir>/fleet-ca`, its key sealed under the portal key
 * file (`<portalDataDir>/master.key`), where the CA began as the portal's, so an existing CA opens as is.
 */
export async function openFleetCa(portalDataDir: string, now: Date): Promise<FleetCa> {
  const keys = await loadPortalKeys(portalDataDir);
  return loadOrCreateFleetCa(path.join(portalDataDir, 'fleet-ca'), keys.caKey, now);
}

/** A CA that lives in memory only (its key is never exported): for tools and tests that need a throwaway CA. */
export async function createEphemeralFleetCa(now: Date): Promise<FleetCa> {
  const keys = await generateKeys();
  return fleetCaOf(await createCaCertificate(keys, now, CA_VALID_DAYS), keys.privateKey);
}

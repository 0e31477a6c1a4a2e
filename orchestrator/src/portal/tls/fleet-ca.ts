// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { seal, unseal } from '../crypto/sealed-box.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_VALID_DAYS = 3650;
/** Server certificates are short-lived and made anew at each start (and before they run out). */
export const SERVER_CERT_VALID_DAYS = 30;
const CA_KEY_PURPOSE = 'fleet-ca-key';

export interface ServerCertificate {
  /** Leaf then CA certificate, PEM. */
  certificateChainPem: string;
  /** PKCS#8 PEM; kept in memory only. */
  privateKeyPem: string;
  notAfter: Date;
}

export interface FleetCa {
  certificatePem: string;
  issueServerCertificate(names: readonly string[], now: Date): Promise<ServerCertificate>;
}

function pem(label: string, der: ArrayBuffer): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function serialNumber(): string {
  // Positive, 16 random bytes (RFC 5280 asks for at most 20 octets and no negative serials).
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function createCa(
  now: Date,
): Promise<{ certificate: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: 'CN=agent-fleet CA, O=agent-fleet',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_VALID_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

/**
 * The fleet's own certificate authority: `<dir>/ca.crt` (public) and `<dir>/ca.key.sealed` (the PKCS#8
 * private key sealed with AES-256-GCM under a key derived from the portal key file), made at first start.
 * A CA key that does not open (other key, changed bytes) stops the start: nothing is silently replaced.
 */
export async function loadOrCreateFleetCa(dir: string, sealingKey: Buffer, now: Date): Promise<FleetCa> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = path.join(dir, 'ca.crt');
  const keyPath = path.join(dir, 'ca.key.sealed');
  let certificate: x509.X509Certificate;
  let privateKey: webcrypto.CryptoKey;
  const existing = await readFile(certPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing === null) {
    const created = await createCa(now);
    certificate = created.certificate;
    privateKey = created.keys.privateKey;
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', privateKey));
    await writeFileAtomically(keyPath, seal(sealingKey, pkcs8, CA_KEY_PURPOSE), { mode: 0o600 });
    await writeFileAtomically(certPath, certificate.toString('pem') + '\n', { mode: 0o644 });
  } else {
    certificate = new x509.X509Certificate(existing);
    const sealed = await readFile(keyPath, 'utf8').catch((error: unknown) => {
      throw new FleetError('integrity', `the fleet CA key ${keyPath} is missing beside ${certPath}`, {
        cause: error,
      });
    });
    const pkcs8 = unseal(sealingKey, sealed.trim(), CA_KEY_PURPOSE);
    privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, ALGORITHM, false, ['sign']);
  }
  const certificatePem = certificate.toString('pem') + '\n';
  return {
    certificatePem,
    issueServerCertificate: (names, at) =>
      issueServerCertificate(certificate, privateKey, certificatePem, names, at),
  };
}

async function issueServerCertificate(
  ca: x509.X509Certificate,
  caKey: webcrypto.CryptoKey,
  caPem: string,
  names: readonly string[],
  now: Date,
): Promise<ServerCertificate> {
  if (names.length === 0)
    throw new FleetError('invalid_input', 'a server certificate needs at least one name');
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const notAfter = new Date(now.getTime() + SERVER_CERT_VALID_DAYS * DAY_MS);
  const first = names[0] ?? 'localhost';
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${isIP(first) ? 'agent-fleet portal' : first}`,
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        names.map((name) =>
          isIP(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name },
        ),
      ),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  const privateKeyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certificateChainPem: `${leaf.toString('pem')}\n${caPem}`, privateKeyPem, notAfter };
}

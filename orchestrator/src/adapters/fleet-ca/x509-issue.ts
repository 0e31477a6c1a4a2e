// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** ECDSA P-256 with SHA-256 for the CA and every certificate it issues. */
export const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Backdated a minute, so a peer whose clock is slightly behind accepts a certificate made just now. */
const CLOCK_SKEW_MS = 60_000;

export { x509 };

export function pem(label: string, der: ArrayBuffer): string {
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

export function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
}

/** A self-signed CA certificate that may sign leaves only (path length 0). */
export async function createCaCertificate(keys: webcrypto.CryptoKeyPair, now: Date, validDays: number): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: 'CN=agent-fleet CA, O=agent-fleet',
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + validDays * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
}

/** A name on a leaf: a DNS name, an IP address, or a URI (the agents' SPIFFE-style identity). */
export type LeafName = { type: 'dns' | 'ip' | 'url'; value: string };

/** `localhost`, `10.0.0.1` → DNS or IP entries. */
export function hostNames(names: readonly string[]): LeafName[] {
  return names.map((name) => (isIP(name) ? { type: 'ip', value: name } : { type: 'dns', value: name }));
}

export interface IssuedLeaf {
  certificatePem: string;
  privateKeyPem: string;
  notAfter: Date;
}

/** A TLS server leaf signed by the CA, for exactly `names`, with a fresh key pair. */
export async function issueServerLeaf(
  ca: { certificate: x509.X509Certificate; privateKey: webcrypto.CryptoKey },
  leaf: { commonName: string; names: readonly LeafName[] },
  now: Date,
  validDays: number,
): Promise<IssuedLeaf> {
  const keys = await generateKeys();
  const notAfter = new Date(now.getTime() + validDays * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${leaf.commonName}`,
    issuer: ca.certificate.subject,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    signingKey: ca.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension(leaf.names.map((name) => ({ type: name.type, value: name.value }))),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return {
    certificatePem: certificate.toString('pem') + '\n',
    privateKeyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    notAfter,
  };
}

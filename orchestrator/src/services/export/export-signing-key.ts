import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import * as z from 'zod';

/**
 * Where the export key pair is kept: one sealed document. The embedded Vault's `EncryptedFileStore`
 * (AES-256-GCM under a 0600 master key file, atomic writes) is the intended implementation, opened on a
 * directory of its own, e.g. `new EncryptedFileStore(dir, await loadOrCreateMasterKey(dir))`.
 */
export interface SealedDocumentStore {
  /** The stored document, or null before the first save. */
  load(): Promise<unknown>;
  save(document: unknown): Promise<void>;
}

/** Signs export manifests with the fleet's Ed25519 export key. */
export interface ExportSigner {
  /** `sha256:<hex>` of the public key's SPKI DER. */
  keyId: string;
  /** The public key (SPKI PEM), for auditors to verify exports offline. */
  publicKeyPem: string;
  sign(data: Uint8Array): Buffer;
}

const documentSchema = z
  .object({
    kind: z.literal('agent-fleet-export-key'),
    version: z.literal(1),
    algorithm: z.literal('ed25519'),
    createdAt: z.string(),
    privateKeyPkcs8: z.string().min(1),
    publicKeySpki: z.string().min(1),
  })
  .strict();

/** A public key from PEM (SPKI) text, DER bytes or a KeyObject; `invalid_input` when it is no Ed25519 key. */
export function toExportPublicKey(key: KeyObject | string | Uint8Array): KeyObject {
  let publicKey: KeyObject;
  try {
    if (typeof key === 'string') publicKey = createPublicKey(key);
    else if (key instanceof Uint8Array)
      publicKey = createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
    else publicKey = key.type === 'private' ? createPublicKey(key) : key;
  } catch (error) {
    throw new FleetError('invalid_input', 'the export public key is not a PEM or DER public key', {
      cause: error,
    });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new FleetError(
      'invalid_input',
      `the export public key is ${publicKey.asymmetricKeyType ?? 'unknown'}, not Ed25519`,
    );
  return publicKey;
}

export function exportKeyId(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')}`;
}

/** Checks an Ed25519 signature; false (never a throw) for a malformed one. */
export function verifyExportSignature(
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return verify(null, data, publicKey, signature);
  } catch {
    return false;
  }
}

function signerFrom(privateKey: KeyObject): ExportSigner {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: exportKeyId(publicKey),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (data) => sign(null, data, privateKey),
  };
}

function fromDocument(document: unknown): ExportSigner {
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success)
    throw new FleetError('integrity', 'the stored export key is not an agent-fleet export key');
  const privateKey = createPrivateKey({
    key: Buffer.from(parsed.data.privateKeyPkcs8, 'base64'),
    format: 'der',
    type: 'pkcs8',
  });
  const signer = signerFrom(privateKey);
  const stored = toExportPublicKey(Buffer.from(parsed.data.publicKeySpki, 'base64'));
  if (exportKeyId(stored) !== signer.keyId)
    throw new FleetError(
      'integrity',
      'the stored export key pair does not match: its public half was altered',
    );
  return signer;
}

/**
 * The fleet's export signer: the stored key pair, or a new Ed25519 pair generated and saved (sealed) on
 * first use. The private key exists in clear only in this process's memory.
 */
export async function loadOrCreateExportSigner(store: SealedDocumentStore, now: Date): Promise<ExportSigner> {
  const existing = await store.load();
  if (existing !== null) return fromDocument(existing);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await store.save({
    kind: 'agent-fleet-export-key',
    version: 1,
    algorithm: 'ed25519',
    createdAt: now.toISOString(),
    privateKeyPkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  });
  // Read back what was stored, so every caller signs with the key that is actually kept.
  return fromDocument(await store.load());
}

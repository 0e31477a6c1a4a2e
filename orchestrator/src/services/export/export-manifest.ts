import { canonicalJson } from '@agent-fleet/kernel/canonical-json';
import * as z from 'zod';

/**
 * The manifest of a client export: every file with its size and SHA-256, who it is for, when it was
 * made and by which key it is signed. MANIFEST.json holds exactly the canonical JSON of the manifest
 * (no trailing newline), and MANIFEST.sig the base64 Ed25519 signature of those bytes, so anyone can
 * check it with openssl alone. Pure.
 */

export const EXPORT_FORMAT = 'agent-fleet-client-export';
export const EXPORT_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'MANIFEST.json';
export const SIGNATURE_FILE = 'MANIFEST.sig';
export const README_FILE = 'README.md';
/** Written by the archive itself, never by a caller's entry. */
export const RESERVED_FILES: readonly string[] = [MANIFEST_FILE, SIGNATURE_FILE, README_FILE];
/** A manifest or signature larger than this is refused by the verifier without reading it whole. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Largest entry the ustar size field can describe. */
export const MAX_ENTRY_BYTES = 8 * 1024 ** 3 - 1;

const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

const fileSchema = z
  .object({
    name: z.string().regex(ENTRY_NAME).max(100),
    size: z.number().int().min(0).max(MAX_ENTRY_BYTES),
    sha256: z.string().regex(SHA256_HEX),
  })
  .strict();

const manifestSchema = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    formatVersion: z.literal(EXPORT_FORMAT_VERSION),
    clientId: z.string().min(1).max(64),
    createdAt: z.iso.datetime(),
    /** `sha256:<hex>` of the signing public key (SPKI DER): which key to verify with. */
    signingKeyId: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    files: z.array(fileSchema),
  })
  .strict();

export type ExportManifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof fileSchema>;

/** Why an entry name is refused, or null when it is a fine relative path inside the archive. */
export function entryNameProblem(name: string): string | null {
  if (!ENTRY_NAME.test(name))
    return `export entry name ${JSON.stringify(name.slice(0, 120))} must be a relative path of a-z, A-Z, 0-9, ".", "_", "-" segments`;
  if (name.length > 100)
    return `export entry name ${JSON.stringify(name.slice(0, 120))} is longer than 100 characters`;
  if (name.split('/').some((segment) => segment === '..' || segment === '.'))
    return `export entry name ${JSON.stringify(name)} must not contain "." or ".." segments`;
  if (RESERVED_FILES.includes(name)) return `export entry name ${name} is reserved for the archive itself`;
  return null;
}

/** The exact bytes of MANIFEST.json, which are also the bytes the signature covers. */
export function manifestBytes(manifest: ExportManifest): Buffer {
  return Buffer.from(canonicalJson(manifestSchema.parse(manifest)), 'utf8');
}

export type ManifestParse = { ok: true; manifest: ExportManifest } | { ok: false; problem: string };

/** Parses MANIFEST.json from an archive; it must be valid and byte-for-byte canonical. */
export function parseManifest(bytes: Buffer): ManifestParse {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, problem: `${MANIFEST_FILE} is not JSON` };
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `${MANIFEST_FILE} is not a valid manifest: ${issue ? `${issue.path.join('.') || 'manifest'}: ${issue.message}` : 'unknown'}`,
    };
  }
  const listed = new Set<string>();
  for (const file of parsed.data.files) {
    // The manifest and its signature cannot describe themselves; a name listed twice names two files.
    if (file.name === MANIFEST_FILE || file.name === SIGNATURE_FILE)
      return { ok: false, problem: `${MANIFEST_FILE} lists ${file.name}, which it cannot describe` };
    if (listed.has(file.name)) return { ok: false, problem: `${MANIFEST_FILE} lists ${file.name} twice` };
    listed.add(file.name);
  }
  if (!manifestBytes(parsed.data).equals(bytes))
    return { ok: false, problem: `${MANIFEST_FILE} is not in canonical form (it was edited)` };
  return { ok: true, manifest: parsed.data };
}

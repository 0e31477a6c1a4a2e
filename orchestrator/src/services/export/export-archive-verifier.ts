import { createHash, type KeyObject } from 'node:crypto';
import {
  MANIFEST_FILE,
  MAX_MANIFEST_BYTES,
  parseManifest,
  SIGNATURE_FILE,
  type ExportManifest,
} from './export-manifest.ts';
import { exportKeyId, toExportPublicKey, verifyExportSignature } from './export-signing-key.ts';
import { readTarEntries, type TarEntry } from './export-tar-reader.ts';

export type ExportProblemKind =
  | 'corrupt-archive'
  | 'manifest-missing'
  | 'manifest-invalid'
  | 'signature-missing'
  | 'signature-invalid'
  | 'wrong-key'
  | 'wrong-client'
  | 'missing-file'
  | 'unexpected-file'
  | 'duplicate-file'
  | 'not-a-file'
  | 'extended-header'
  | 'size-mismatch'
  | 'digest-mismatch';

export interface ExportProblem {
  kind: ExportProblemKind;
  /** The file the problem is about; null for the archive as a whole. */
  file: string | null;
  message: string;
}

export interface ExportVerification {
  ok: boolean;
  /** The manifest when it could be read (even if its signature failed). */
  manifest: ExportManifest | null;
  problems: ExportProblem[];
  /** Files read from the archive. */
  entries: number;
}

interface SeenEntry {
  size: number;
  sha256: string;
}

const SIGNATURE_TEXT = /^[A-Za-z0-9+/]+={0,2}\n?$/;

/** Reads one small entry whole (the manifest, the signature); null when it exceeds the limit. */
async function readSmall(stream: AsyncIterable<Buffer>): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    length += chunk.length;
    if (length <= MAX_MANIFEST_BYTES) parts.push(chunk);
  }
  return length <= MAX_MANIFEST_BYTES ? Buffer.concat(parts) : null;
}

/**
 * Checks an export archive offline with the fleet's public export key: the manifest's signature, every
 * file's size and SHA-256 against the manifest, no file missing, no file extra. Streams the archive
 * through a strict tar reader (export-tar-reader.ts), so memory stays bounded whatever its size or its
 * headers claim, and what is verified is what any tar tool extracts. Reports every problem found, each
 * naming its file.
 */
export async function verifyExportArchive(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  publicKey: KeyObject | string | Uint8Array,
  expect: { clientId?: string } = {},
): Promise<ExportVerification> {
  const key = toExportPublicKey(publicKey);
  const problems: ExportProblem[] = [];
  const seen = new Map<string, SeenEntry>();
  let manifestRaw: Buffer | null = null;
  let signatureRaw: Buffer | null = null;
  let lastEntry: string | null = null;

  const readEntry = async (entry: TarEntry, data: AsyncIterable<Buffer>): Promise<void> => {
    const name = entry.name;
    lastEntry = name;
    if (entry.extended)
      problems.push({
        kind: 'extended-header',
        file: name,
        message: `${name} comes with a pax extended header, which export archives never carry`,
      });
    if (entry.type !== 'file') {
      problems.push({ kind: 'not-a-file', file: name, message: `${name} is a ${entry.type} entry, not a file` });
      return;
    }
    if (seen.has(name))
      problems.push({ kind: 'duplicate-file', file: name, message: `${name} appears more than once` });
    if (name === MANIFEST_FILE || name === SIGNATURE_FILE) {
      const content = await readSmall(data);
      if (content === null) {
        problems.push({
          kind: 'manifest-invalid',
          file: name,
          message: `${name} is larger than ${MAX_MANIFEST_BYTES} bytes`,
        });
        seen.set(name, { size: -1, sha256: '' });
        return;
      }
      if (name === MANIFEST_FILE) manifestRaw ??= content;
      else signatureRaw ??= content;
      seen.set(name, { size: content.length, sha256: createHash('sha256').update(content).digest('hex') });
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of data) {
      hash.update(chunk);
      size += chunk.length;
    }
    if (!seen.has(name)) seen.set(name, { size, sha256: hash.digest('hex') });
  };

  let corrupt = false;
  try {
    await readTarEntries(source, readEntry);
  } catch (error) {
    corrupt = true;
    const where = lastEntry === null ? 'at its first entry' : `after ${lastEntry}`;
    problems.push({
      kind: 'corrupt-archive',
      file: null,
      message: `the archive is not a readable tar ${where}: ${error instanceof Error ? error.message : String(error)}`,
    });
  }

  const manifest = checkManifest(manifestRaw, signatureRaw, key, problems, corrupt, expect);
  if (manifest) {
    const listed = new Set<string>([MANIFEST_FILE, SIGNATURE_FILE]);
    for (const file of manifest.files) {
      listed.add(file.name);
      const found = seen.get(file.name);
      if (!found)
        problems.push({
          kind: 'missing-file',
          file: file.name,
          message: `${file.name} is listed in the manifest but missing`,
        });
      else if (found.size !== file.size)
        problems.push({
          kind: 'size-mismatch',
          file: file.name,
          message: `${file.name} has ${found.size} bytes; the manifest says ${file.size}`,
        });
      else if (found.sha256 !== file.sha256)
        problems.push({
          kind: 'digest-mismatch',
          file: file.name,
          message: `${file.name} does not match its SHA-256 in the manifest: it was altered`,
        });
    }
    for (const name of seen.keys())
      if (!listed.has(name))
        problems.push({
          kind: 'unexpected-file',
          file: name,
          message: `${name} is not listed in the manifest`,
        });
  }
  return { ok: problems.length === 0, manifest, problems, entries: seen.size };
}

function checkManifest(
  manifestRaw: Buffer | null,
  signatureRaw: Buffer | null,
  key: KeyObject,
  problems: ExportProblem[],
  corrupt: boolean,
  expect: { clientId?: string },
): ExportManifest | null {
  if (manifestRaw === null) {
    // A corrupt archive already explains why the manifest (the last entries) could not be read.
    if (!corrupt)
      problems.push({
        kind: 'manifest-missing',
        file: MANIFEST_FILE,
        message: `${MANIFEST_FILE} is missing`,
      });
    return null;
  }
  const parsed = parseManifest(manifestRaw);
  if (!parsed.ok) problems.push({ kind: 'manifest-invalid', file: MANIFEST_FILE, message: parsed.problem });
  const manifest = parsed.ok ? parsed.manifest : null;
  if (signatureRaw === null) {
    if (!corrupt)
      problems.push({
        kind: 'signature-missing',
        file: SIGNATURE_FILE,
        message: `${SIGNATURE_FILE} is missing`,
      });
  } else {
    const text = signatureRaw.toString('utf8');
    const valid =
      SIGNATURE_TEXT.test(text) &&
      verifyExportSignature(key, manifestRaw, Buffer.from(text.trim(), 'base64'));
    const given = exportKeyId(key);
    if (!valid && manifest && manifest.signingKeyId !== given)
      problems.push({
        kind: 'wrong-key',
        file: SIGNATURE_FILE,
        message: `the manifest says it was signed by ${manifest.signingKeyId}; the key given is ${given}`,
      });
    else if (!valid)
      problems.push({
        kind: 'signature-invalid',
        file: SIGNATURE_FILE,
        message: `${SIGNATURE_FILE} is not a valid signature of ${MANIFEST_FILE} by ${given}`,
      });
  }
  if (manifest && expect.clientId !== undefined && manifest.clientId !== expect.clientId)
    problems.push({
      kind: 'wrong-client',
      file: MANIFEST_FILE,
      message: `the export is for client ${manifest.clientId}, not ${expect.clientId}`,
    });
  return manifest;
}

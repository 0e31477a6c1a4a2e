import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import type { IncidentEvidence } from '../../ports/incident-store.ts';
import { verifyExportArchive } from '../export/export-archive-verifier.ts';
import { eachTarEntryLine, type LineCount } from './bundle-lines.ts';
import { openEvidence } from './evidence-cipher.ts';
import { evidenceBundleId } from './evidence-files.ts';

/** Largest entry read whole for a report (an audit log beyond this is left to the bundle). */
const MAX_READ_BYTES = 256 * 1024 * 1024;

/** `gone`: the file is no longer there (a client's bundles are deleted at its erasure or purge). */
export type BundleCheck = { ok: true } | { ok: false; problem: string; gone?: true };

/** SHA-256 of a whole file, streamed. */
export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The file's SHA-256 against the one recorded at sealing; a problem when it changed or cannot be read. */
export async function checkBundleDigest(evidence: IncidentEvidence): Promise<BundleCheck> {
  let digest: string;
  try {
    digest = await sha256Of(evidence.file);
  } catch (error) {
    const problem = `${path.basename(evidence.file)} cannot be read (${(error as Error).message})`;
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? { ok: false, problem, gone: true } : { ok: false, problem };
  }
  if (digest !== evidence.sha256) return { ok: false, problem: `${path.basename(evidence.file)} changed since it was sealed (SHA-256 ${digest}, recorded ${evidence.sha256})` };
  return { ok: true };
}

/** The bundle's plaintext archive, decrypted under its client's key (check its digest first). */
export function openBundle(evidence: IncidentEvidence, keys: KeyWrapper): Promise<Readable> {
  const clientId = parseClientId(evidence.clientId);
  return openEvidence(evidence.file, { clientId, bundleId: evidenceBundleId(evidence.file) }, keys);
}

/**
 * A sealed bundle is trusted only when the file's SHA-256 is still the one recorded in the ops log, it
 * decrypts under its client's key, and its signed manifest verifies with the fleet's export key for the
 * client it was sealed for.
 */
export async function checkBundle(evidence: IncidentEvidence, publicKeyPem: string, keys: KeyWrapper): Promise<BundleCheck> {
  const digest = await checkBundleDigest(evidence);
  if (!digest.ok) return digest;
  try {
    const verification = await verifyExportArchive(await openBundle(evidence, keys), publicKeyPem, { clientId: evidence.clientId });
    if (!verification.ok) return { ok: false, problem: verification.problems.map((p) => p.message).join('; ') };
  } catch (error) {
    return { ok: false, problem: `${path.basename(evidence.file)} cannot be decrypted (${(error as Error).message})` };
  }
  return { ok: true };
}

/** One entry of a plain tar archive, whole; null when it has no such entry (or it is too large to read). */
export async function readTarEntry(archive: Readable, name: string): Promise<Buffer | null> {
  let found: Buffer | null = null;
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, stream: Readable, next: (error?: unknown) => void) => {
    if (header.name !== name || found !== null || (header.size ?? 0) > MAX_READ_BYTES) {
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      found = Buffer.concat(chunks);
      next();
    });
    stream.on('error', next);
  });
  await pipeline(archive, extract);
  return found;
}

/** Each line of one entry of a sealed bundle, decrypted, in bounded memory (`found: false` when it has no such entry). */
export async function readBundleLines(evidence: IncidentEvidence, name: string, keys: KeyWrapper, onLine: (line: string) => void): Promise<LineCount & { found: boolean }> {
  return eachTarEntryLine(await openBundle(evidence, keys), name, onLine);
}

/** One entry of a sealed bundle, decrypted; null when the bundle has no such entry. */
export async function readBundleEntry(evidence: IncidentEvidence, name: string, keys: KeyWrapper): Promise<Buffer | null> {
  return readTarEntry(await openBundle(evidence, keys), name);
}

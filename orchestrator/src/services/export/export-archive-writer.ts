import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import tar from 'tar-stream';
import { EntrySpool } from './entry-spool.ts';
import {
  entryNameProblem,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  MANIFEST_FILE,
  manifestBytes,
  MAX_ENTRY_BYTES,
  README_FILE,
  SIGNATURE_FILE,
  type ExportManifest,
  type ManifestFile,
} from './export-manifest.ts';
import { renderExportReadme } from './export-readme.ts';
import type { ExportSigner } from './export-signing-key.ts';

/** One file of an export, produced lazily as a stream when its turn comes. */
export interface ExportEntry {
  /** Relative path inside the archive, e.g. `audit/audit-log.jsonl`. */
  name: string;
  /** One line for README.md: what the file holds. */
  description: string;
  /** Exact byte size when known up front: the entry streams straight in. Otherwise it is spooled first. */
  size?: number;
  open(): AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
}

export interface ExportProgress {
  entry: string;
  /** 1-based position of the entry, and how many entries there are (README and manifest included). */
  index: number;
  total: number;
  /** Bytes of this entry written so far, and in the whole archive so far (headers excluded). */
  entryBytes: number;
  totalBytes: number;
}

export interface WriteExportOptions {
  clientId: ClientId;
  createdAt: Date;
  entries: readonly ExportEntry[];
  signer: ExportSigner;
  /** Where entries of unknown size are spooled (a private subdirectory is made and removed). */
  spoolDir: string;
  onProgress?: (progress: ExportProgress) => void;
}

function checkEntries(entries: readonly ExportEntry[]): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    const problem = entryNameProblem(entry.name);
    if (problem) throw new FleetError('invalid_input', problem);
    if (seen.has(entry.name))
      throw new FleetError('invalid_input', `export entry ${entry.name} appears twice`);
    seen.add(entry.name);
    if (
      entry.size !== undefined &&
      (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size > MAX_ENTRY_BYTES)
    )
      throw new FleetError('invalid_input', `export entry ${entry.name} has an invalid size`);
  }
}

/**
 * Writes a client export as a tar stream to `output`: the entries in order, each hashed (SHA-256) as it
 * streams, then README.md, MANIFEST.json and MANIFEST.sig. Memory stays bounded whatever the sizes.
 * Returns the signed manifest. On failure the output holds a partial archive: write to a temp file.
 */
export async function writeExportArchive(
  options: WriteExportOptions,
  output: Writable,
): Promise<ExportManifest> {
  checkEntries(options.entries);
  const spool = await EntrySpool.create(options.spoolDir);
  const pack = tar.pack();
  const aborted = new AbortController();
  const piped = pipeline(pack, output);
  piped.catch(() => aborted.abort());
  const total = options.entries.length + 3;
  let totalBytes = 0;
  const files: ManifestFile[] = [];

  const add = async (
    index: number,
    name: string,
    size: number,
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  ): Promise<ManifestFile> => {
    const hash = createHash('sha256');
    let written = 0;
    let failed: unknown = null;
    const { promise: finished, resolve, reject } = Promise.withResolvers<void>();
    const entrySink = pack.entry(
      { name, size, mode: 0o644, mtime: options.createdAt, type: 'file' },
      (error) => (error ? reject(error) : resolve()),
    );
    finished.catch((error: unknown) => (failed = error));
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (written + bytes.byteLength > size)
        throw new FleetError('internal', `export entry ${name} is longer than its declared ${size} bytes`);
      hash.update(bytes);
      written += bytes.byteLength;
      totalBytes += bytes.byteLength;
      if (!entrySink.write(bytes)) await once(entrySink, 'drain', { signal: aborted.signal });
      if (failed) throw failed;
      options.onProgress?.({ entry: name, index, total, entryBytes: written, totalBytes });
    }
    if (written !== size)
      throw new FleetError('internal', `export entry ${name} has ${written} bytes, not its declared ${size}`);
    entrySink.end();
    await finished;
    return { name, size, sha256: hash.digest('hex') };
  };

  try {
    for (const [position, entry] of options.entries.entries()) {
      if (entry.size !== undefined) {
        files.push(await add(position + 1, entry.name, entry.size, entry.open()));
        continue;
      }
      const spooled = await spool.spool(entry.open(), position + 1);
      if (spooled.size > MAX_ENTRY_BYTES)
        throw new FleetError('invalid_input', `export entry ${entry.name} is too large`);
      files.push(await add(position + 1, entry.name, spooled.size, spool.read(spooled)));
      await spool.release(spooled.path);
    }
    const readme = Buffer.from(
      renderExportReadme({
        clientId: options.clientId,
        createdAt: options.createdAt.toISOString(),
        signingKeyId: options.signer.keyId,
        formatVersion: EXPORT_FORMAT_VERSION,
        files: options.entries.map((entry, i) => ({ ...entry, size: files[i]?.size ?? 0 })),
      }),
    );
    files.push(await add(total - 2, README_FILE, readme.length, [readme]));
    const manifest: ExportManifest = {
      format: EXPORT_FORMAT,
      formatVersion: EXPORT_FORMAT_VERSION,
      clientId: options.clientId,
      createdAt: options.createdAt.toISOString(),
      signingKeyId: options.signer.keyId,
      files,
    };
    const signed = manifestBytes(manifest);
    const signature = Buffer.from(`${options.signer.sign(signed).toString('base64')}\n`);
    await add(total - 1, MANIFEST_FILE, signed.length, [signed]);
    await add(total, SIGNATURE_FILE, signature.length, [signature]);
    pack.finalize();
    await piped;
    return manifest;
  } catch (error) {
    const outputFailed = aborted.signal.aborted;
    pack.destroy(error as Error);
    const outputError = await piped.then(
      () => null,
      (failure: unknown) => failure,
    );
    throw outputFailed && outputError ? outputError : error;
  } finally {
    await spool.dispose();
  }
}

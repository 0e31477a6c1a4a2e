import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import tar from 'tar-stream';
import {
  writeExportArchive,
  type ExportEntry,
} from '../../../orchestrator/src/services/export/export-archive-writer.ts';
import type { ExportManifest } from '../../../orchestrator/src/services/export/export-manifest.ts';
import type { ExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';

export const CREATED_AT = new Date('2026-12-04T10:30:00.000Z');

/** Collects a stream into memory: test archives are small. */
export class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export async function withSpoolDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'export-test-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function buildArchive(
  signer: ExportSigner,
  entries: ExportEntry[],
  clientId = 'acme',
): Promise<{ archive: Buffer; manifest: ExportManifest }> {
  return withSpoolDir(async (spoolDir) => {
    const out = new Collector();
    const manifest = await writeExportArchive(
      { clientId: parseClientId(clientId), createdAt: CREATED_AT, entries, signer, spoolDir },
      out,
    );
    return { archive: out.bytes(), manifest };
  });
}

/** Every entry of a tar archive, in order, with its content. */
export async function readTar(archive: Buffer): Promise<{ name: string; type: string; content: Buffer }[]> {
  const entries: { name: string; type: string; content: Buffer }[] = [];
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, stream: AsyncIterable<Buffer>, next: () => void) => {
    void (async () => {
      const parts: Buffer[] = [];
      for await (const chunk of stream) parts.push(chunk);
      entries.push({ name: header.name, type: header.type ?? 'file', content: Buffer.concat(parts) });
      next();
    })();
  });
  await pipeline([archive], extract);
  return entries;
}

/** A new archive from edited entries: how a test drops, adds or replaces files like an attacker would. */
export async function writeTar(
  entries: { name: string; content: Buffer; type?: 'file' | 'directory' }[],
): Promise<Buffer> {
  const pack = tar.pack();
  const out = new Collector();
  const piped = pipeline(pack, out);
  for (const entry of entries) {
    await new Promise<void>((resolve, reject) => {
      if (entry.type === 'directory')
        pack.entry({ name: entry.name, type: 'directory' }, (error) => (error ? reject(error) : resolve()));
      else pack.entry({ name: entry.name }, entry.content, (error) => (error ? reject(error) : resolve()));
    });
  }
  pack.finalize();
  await piped;
  return out.bytes();
}

/** `count` bytes of `fill` as a lazily produced stream, `chunk` bytes at a time. */
export async function* generated(count: number, fill: string, chunk = 7_919): AsyncGenerator<Buffer> {
  const block = Buffer.alloc(chunk, fill);
  for (let sent = 0; sent < count; sent += chunk) yield block.subarray(0, Math.min(chunk, count - sent));
}

// Small tar archives built in memory for the tests of what reads, checks or rewrites one (volume snapshots,
// restaging a restore), and the headers of what comes out.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** One entry: a file (the default) with `content`, a directory or a link; owned by the agent's uid unless `uid`. */
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink';
  content?: string;
  uid?: number;
  linkname?: string;
  /** By default 0o700 for a directory and 0o600 for anything else. */
  mode?: number;
}

/** A tar archive of `entries`, in order. */
export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    const header = {
      name: entry.name,
      type: entry.type ?? 'file',
      uid: entry.uid ?? 10001,
      gid: entry.uid ?? 10001,
      mode: entry.mode ?? (entry.type === 'directory' ? 0o700 : 0o600),
      ...(entry.linkname ? { linkname: entry.linkname } : {}),
    };
    pack.entry(header, entry.type === 'file' || entry.type === undefined ? (entry.content ?? '') : undefined);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `bytes` as a stream of one chunk. */
export async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** The headers of the entries of the tar `stream`, in order; rejects when the stream fails or is no tar. */
export async function headersIn(stream: Readable): Promise<tar.Headers[]> {
  const headers: tar.Headers[] = [];
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, entry: Readable, next: () => void) => {
    headers.push(header);
    entry.resume();
    entry.once('end', next);
  });
  await pipeline(stream, extract);
  return headers;
}

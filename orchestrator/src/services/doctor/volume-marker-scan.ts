import { extract } from 'tar-stream';

/** A plaintext marker: the bytes looked for, and what it is (for the evidence, never the value itself). */
export interface Marker {
  text: string;
  kind: string;
}

export interface MarkerScan {
  files: number;
  bytes: number;
  /** Files left out, and why (the orchestrator's own plaintext configuration). */
  skipped: string[];
  hits: { file: string; kind: string }[];
}

/**
 * Scans a tar of the client's volume (as `AgentVolumes.snapshot` streams it) for plaintext markers, file by
 * file, case-insensitively, across chunk boundaries. `skip` names files that are plaintext by design.
 */
export async function scanTarForMarkers(
  tar: NodeJS.ReadableStream,
  markers: readonly Marker[],
  skip: (name: string) => string | null,
): Promise<MarkerScan> {
  const needles = markers
    .filter((marker) => marker.text.length >= 4)
    .map((marker) => ({ ...marker, bytes: asciiLower(Buffer.from(marker.text, 'utf8')) }));
  const overlap = Math.max(0, ...needles.map((needle) => needle.bytes.length)) - 1;
  const scan: MarkerScan = { files: 0, bytes: 0, skipped: [], hits: [] };
  const extractor = extract();
  const done = new Promise<void>((resolve, reject) => {
    extractor.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.\//, '');
      const why = header.type === 'file' ? skip(name) : 'not a file';
      if (why !== null) {
        if (header.type === 'file') scan.skipped.push(`${name} (${why})`);
        stream.on('end', next);
        stream.resume();
        return;
      }
      scan.files += 1;
      const found = new Set<string>();
      let tail = Buffer.alloc(0);
      stream.on('data', (chunk: Buffer) => {
        scan.bytes += chunk.length;
        const window = Buffer.concat([tail, asciiLower(chunk)]);
        for (const needle of needles) {
          if (found.has(needle.text) || !window.includes(needle.bytes)) continue;
          found.add(needle.text);
          scan.hits.push({ file: name, kind: needle.kind });
        }
        tail = overlap > 0 ? window.subarray(Math.max(0, window.length - overlap)) : Buffer.alloc(0);
      });
      stream.on('end', next);
      stream.on('error', reject);
    });
    extractor.on('finish', resolve);
    extractor.on('error', reject);
  });
  (tar as NodeJS.ReadableStream).on('error', (error: Error) => extractor.destroy(error));
  tar.pipe(extractor);
  await done;
  return scan;
}

/** A copy with A-Z as a-z, every other byte kept (UTF-8 sequences stay intact). */
function asciiLower(bytes: Buffer): Buffer {
  const lower = Buffer.from(bytes);
  for (let index = 0; index < lower.length; index += 1) {
    const byte = lower[index] as number;
    if (byte >= 0x41 && byte <= 0x5a) lower[index] = byte + 0x20;
  }
  return lower;
}

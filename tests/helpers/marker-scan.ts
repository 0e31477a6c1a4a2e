import { open, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Files under `roots` (recursively, links not followed) whose bytes contain any of `markers`. */
export async function filesContaining(roots: readonly string[], markers: readonly string[]): Promise<{ file: string; marker: string }[]> {
  const needles = markers.map((marker) => ({ marker, bytes: Buffer.from(marker, 'utf8') }));
  const longest = Math.max(...needles.map((needle) => needle.bytes.length));
  const found: { file: string; marker: string }[] = [];
  const scanFile = async (file: string): Promise<void> => {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch {
      return; // gone meanwhile (another test's files), or not a regular file
    }
    try {
      // Chunks overlap by the longest marker, so a marker across a chunk boundary is still found.
      const buffer = Buffer.alloc(4 * 1024 * 1024 + longest);
      let carried = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried);
        const filled = carried + bytesRead;
        for (const needle of needles) {
          if (buffer.subarray(0, filled).includes(needle.bytes) && !found.some((hit) => hit.file === file && hit.marker === needle.marker)) {
            found.push({ file, marker: needle.marker });
          }
        }
        if (bytesRead === 0) break;
        carried = Math.min(longest, filled);
        buffer.copy(buffer, 0, filled - carried, filled);
      }
    } finally {
      await handle.close();
    }
  };
  const walk = async (directory: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) await scanFile(full);
    }
  };
  for (const root of roots) await walk(root);
  return found;
}

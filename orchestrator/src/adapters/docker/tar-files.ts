import tar from 'tar-stream';

/** `uid:gid` (as a container's user) as numbers; a lone uid is its own gid. */
export function parseUserIds(user: string): { uid: number; gid: number } {
  const [uid, gid] = user.split(':').map(Number);
  return { uid: uid ?? 0, gid: gid ?? uid ?? 0 };
}

/**
 * A tar archive of files, for the Engine's archive API (how config and the TLS handover reach a volume).
 * One archive per call: the Engine mounts the container's filesystem for each copy (~60 ms here), so
 * files needed together go in one.
 */
export function tarFiles(files: Readonly<Record<string, string>>, options: { uid: number; gid: number; mode: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (chunk: Buffer) => chunks.push(chunk));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
    const entries = Object.entries(files);
    const mtime = new Date();
    const next = (index: number): void => {
      const entry = entries[index];
      if (entry === undefined) {
        pack.finalize();
        return;
      }
      const [name, content] = entry;
      pack.entry({ name, mode: options.mode, uid: options.uid, gid: options.gid, mtime }, content, (error) => {
        if (error) reject(error);
        else next(index + 1);
      });
    };
    next(0);
  });
}

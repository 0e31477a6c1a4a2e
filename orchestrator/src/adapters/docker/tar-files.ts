import tar from 'tar-stream';
import { checkPlacedFileName } from '../placed-file-name.ts';

/** `uid:gid` (as a container's user) as numbers; a lone uid is its own gid. */
function parseUserIds(user: string): { uid: number; gid: number } {
  const [uid, gid] = user.split(':').map(Number);
  return { uid: uid ?? 0, gid: gid ?? uid ?? 0 };
}

/** Files placed at the root of an agent's volume: names checked, owned by `user` (`uid:gid`), mode 0640. */
export function placedFilesArchive(files: Readonly<Record<string, string>>, user: string): Promise<Buffer> {
  Object.keys(files).forEach(checkPlacedFileName);
  return tarFiles(files, { ...parseUserIds(user), mode: 0o640 });
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

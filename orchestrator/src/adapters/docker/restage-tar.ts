import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

const SAFE_SEGMENT = /^[^/\0]+$/;

/** A restore's staging directory at the volume's root, as the volume swap script accepts it. */
export const STAGING_NAME = /^\.restore-staging-[a-z0-9-]{1,80}$/;

/** Refuses a staging directory name that is not one (`..`, a slash, a live entry of the volume). */
export function checkStagingName(name: string): void {
  if (!STAGING_NAME.test(name)) throw new FleetError('invalid_input', `${JSON.stringify(name.slice(0, 120))} is not a restore staging directory name`);
}

/** `./a/b` → `a/b`; null for the root entry itself; refuses absolute paths and `..`. */
function relativeName(name: string): string | null {
  // Only a leading `.` segment goes: `.hidden` stays `.hidden`.
  const trimmed = name.replace(/^\.(?:\/+|$)/, '').replace(/\/+$/, '');
  if (trimmed === '') return null;
  const segments = trimmed.split('/');
  if (name.startsWith('/') || segments.some((segment) => segment === '..' || segment === '.' || !SAFE_SEGMENT.test(segment))) {
    throw new FleetError('integrity', `the snapshot holds an unsafe path ${JSON.stringify(name.slice(0, 120))}: refused`);
  }
  return trimmed;
}

export interface Restaged {
  tar: Readable;
  /** The source's own error once it failed (a corrupt backup, a lost connection), else null. */
  sourceFailure(): unknown;
}

/**
 * Re-packs a volume snapshot (entries `./…`) under `prefix/`, streaming: only plain files and
 * directories pass (a link or device in a snapshot is refused), owners and modes are kept, every parent
 * directory gets an entry of its own (owned like the root, so the agent user can remove a cut-off
 * staging tree), and the restore's own leftovers (`.restore-*`) are left out. The returned stream fails
 * when the source does.
 */
export function restageTar(source: AsyncIterable<Uint8Array>, prefix: string): Restaged {
  const pack = tar.pack();
  const extract = tar.extract();
  let rootOwner = { uid: 10001, gid: 10001 };
  let wroteRoot = false;
  let failure: unknown = null;
  const directories = new Set<string>();
  const writeParents = (name: string) => {
    const segments = name.split('/').slice(0, -1);
    for (let depth = 1; depth <= segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      if (directories.has(parent)) continue;
      directories.add(parent);
      pack.entry({ name: `${prefix}/${parent}/`, type: 'directory', mode: 0o700, ...rootOwner, mtime: new Date() });
    }
  };
  const writeRoot = () => {
    if (wroteRoot) return;
    wroteRoot = true;
    pack.entry({ name: `${prefix}/`, type: 'directory', mode: 0o700, ...rootOwner, mtime: new Date() });
  };
  extract.on('entry', (header: tar.Headers, stream: Readable, next: (error?: unknown) => void) => {
    const done = (error?: unknown) => (error ? next(error) : next());
    try {
      const name = relativeName(header.name);
      if (name === null) {
        rootOwner = { uid: header.uid ?? 10001, gid: header.gid ?? 10001 };
        writeRoot();
        stream.resume();
        stream.once('end', () => done());
        return;
      }
      writeRoot();
      if (name.split('/')[0]?.startsWith('.restore-')) {
        stream.resume();
        stream.once('end', () => done());
        return;
      }
      const common = { name: `${prefix}/${name}`, mode: header.mode ?? 0o600, uid: header.uid ?? 10001, gid: header.gid ?? 10001, mtime: header.mtime ?? new Date() };
      writeParents(name);
      if (header.type === 'directory') {
        directories.add(name);
        pack.entry({ ...common, name: `${common.name}/`, type: 'directory' });
        stream.resume();
        stream.once('end', () => done());
        return;
      }
      if (header.type !== 'file') throw new FleetError('integrity', `the snapshot holds a ${header.type ?? 'special'} entry ${JSON.stringify(name.slice(0, 120))}: only files and directories are restored`);
      const sink = pack.entry({ ...common, type: 'file', size: header.size ?? 0 }, (error) => done(error ?? undefined));
      stream.pipe(sink);
    } catch (error) {
      stream.resume();
      done(error);
    }
  });
  pipeline(source, extract).then(
    () => {
      writeRoot();
      pack.finalize();
    },
    (error: unknown) => {
      failure = error;
      pack.destroy(error as Error);
    },
  );
  return { tar: pack, sourceFailure: () => failure };
}

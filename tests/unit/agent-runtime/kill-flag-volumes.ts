// Agent data volumes for the kill flag tests: each test gets an empty volume of its own in one temporary
// directory, and the path its kill flag would be at.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';

/**
 * Hooks for the enclosing describe block: a temporary directory (named after `prefix`), removed afterwards.
 * `fresh()` makes a new empty volume in it and gives the path of that volume's kill flag.
 */
export function killFlagVolumes(prefix: string): { readonly dir: string; fresh(): Promise<string> } {
  let dir: string | undefined;
  let count = 0;
  const made = (): string => {
    if (dir === undefined) throw new Error('killFlagVolumes is used before its hook ran');
    return dir;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return made();
    },
    async fresh() {
      const data = join(made(), `volume-${count++}`);
      await mkdir(data);
      return join(data, KILL_FLAG_FILE);
    },
  };
}

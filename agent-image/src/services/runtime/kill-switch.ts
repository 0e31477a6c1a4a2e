import { lstatSync } from 'node:fs';
import { lstat, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { syncDirectory, writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import { killFlagContent } from '@agent-fleet/kernel/kill-flag';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';

/**
 * The persisted kill flag: `/data/KILLED` in the client's volume (written by `/v1/kill` or by the
 * orchestrator through the engine's archive API) plus an in-memory latch. On Kubernetes the orchestrator
 * places its flag in a read-only ConfigMap mount instead (`placedFlags`): the agent obeys it but can
 * never remove it. Checked before every model call and every provider write.
 */
export class KillSwitch {
  private readonly path: string;
  private readonly placedFlags: readonly string[];
  private latched = false;
  /** Kills of this process (latch or engage): a revive releases only the kill it saw begin. */
  private kills = 0;
  /** Writes and removals of the flag file, one at a time, so a kill's write cannot land under a revive's removal. */
  private readonly flagWrites = new SerialQueue();

  constructor(path: string, placedFlags: readonly string[] = []) {
    this.path = path;
    this.placedFlags = placedFlags;
  }

  /** Memory first; then the files, so a flag written from outside is seen at the next check. */
  get killed(): boolean {
    if (!this.latched && (flagPresent(this.path) || this.placedFlags.some(flagPresent))) this.latched = true;
    return this.latched;
  }

  /** Throws FleetError('killed') when the kill switch is engaged. */
  assertAlive(what: string): void {
    if (this.killed) throw new FleetError('killed', `${what}: the kill switch is engaged`);
  }

  /** Latches in memory at once (every later check fails), before anything slower happens. */
  latch(): void {
    this.latched = true;
    this.kills++;
  }

  /** Read when a revive begins and handed to `release`: a kill after it is not released by that revive. */
  get generation(): number {
    return this.kills;
  }

  /**
   * Clears the kill (revive, only through the authenticated control API after the orchestrator restored
   * the client's Vault policy): the flag file goes first, durably, then the latch. `seen`: the generation
   * when the revive began; a kill that came since (while the revive held what the kill stopped) stays
   * engaged, flag file and all, and the revive fails with FleetError 'conflict'.
   */
  async release(seen?: number): Promise<void> {
    await this.flagWrites.run(async () => {
      if (this.placedFlags.some(flagPresent)) {
        throw new FleetError('conflict', 'the orchestrator\'s kill flag is still placed; it must remove it before a revive');
      }
      this.assertNoKillSince(seen);
      await assertFlagFileOrNone(this.path, 'the agent stays killed; remove it by hand, then revive again');
      await rm(this.path, { force: true });
      await syncDirectory(dirname(this.path));
      // A kill during the removal latched already; its flag is written next in the queue.
      this.assertNoKillSince(seen);
      this.latched = false;
    });
  }

  /** Latches at once, then persists the flag durably (temp file, fsync, rename, fsync of the directory). */
  async engage(details: { reason: string; by: string; at: Date }): Promise<void> {
    this.latch();
    await this.flagWrites.run(async () => {
      await assertFlagFileOrNone(this.path, 'the agent is killed (anything there counts as the flag), but who killed it and why were not recorded in it');
      await writeFileAtomically(this.path, killFlagContent(details));
    });
  }

  private assertNoKillSince(seen: number | undefined): void {
    if (seen !== undefined && seen !== this.kills) throw new FleetError('conflict', 'the agent was killed again while it was being revived; it stays killed');
  }
}

/**
 * Whether a flag is there, failing closed: anything at the path counts (a file of any content, a
 * directory, a symlink whether or not it leads anywhere), and so does a path that cannot be looked at
 * (permissions, I/O). Only "no such file" means no flag. `existsSync` answers false for a dangling
 * symlink and for every error, which would read a planted or unreadable flag as no kill at all.
 */
function flagPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * The flag's path holds the flag file, a link (removed or replaced as an entry, never followed) or
 * nothing. Anything else there (a directory, a FIFO, a device) was put there by neither the agent nor the
 * orchestrator, and a directory cannot be replaced or removed as a file: it still counts as a kill
 * (flagPresent), and this is FleetError('integrity') naming the path rather than a raw EISDIR.
 */
async function assertFlagFileOrNone(path: string, consequence: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new FleetError('integrity', `the kill flag ${path} cannot be looked at; ${consequence}`, { cause: error });
  }
  if (info.isFile() || info.isSymbolicLink()) return;
  const what = info.isDirectory() ? 'a directory' : 'not a regular file';
  throw new FleetError('integrity', `the kill flag ${path} is ${what}; ${consequence}`);
}

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { syncDirectory, writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import { killFlagContent } from '@agent-fleet/kernel/kill-flag';

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

  constructor(path: string, placedFlags: readonly string[] = []) {
    this.path = path;
    this.placedFlags = placedFlags;
  }

  /** Memory first; then the files, so a flag written from outside is seen at the next check. */
  get killed(): boolean {
    if (!this.latched && (existsSync(this.path) || this.placedFlags.some((flag) => existsSync(flag)))) this.latched = true;
    return this.latched;
  }

  /** Throws FleetError('killed') when the kill switch is engaged. */
  assertAlive(what: string): void {
    if (this.killed) throw new FleetError('killed', `${what}: the kill switch is engaged`);
  }

  /** Latches in memory at once (every later check fails), before anything slower happens. */
  latch(): void {
    this.latched = true;
  }

  /**
   * Clears the kill (revive, only through the authenticated control API after the orchestrator restored
   * the client's Vault policy): the flag file goes first, durably, then the latch.
   */
  async release(): Promise<void> {
    if (this.placedFlags.some((flag) => existsSync(flag))) {
      throw new FleetError('conflict', 'the orchestrator\'s kill flag is still placed; it must remove it before a revive');
    }
    await rm(this.path, { force: true });
    await syncDirectory(dirname(this.path));
    this.latched = false;
  }

  /** Latches at once, then persists the flag durably (temp file, fsync, rename, fsync of the directory). */
  async engage(details: { reason: string; by: string; at: Date }): Promise<void> {
    this.latched = true;
    await writeFileAtomically(this.path, killFlagContent(details));
  }
}

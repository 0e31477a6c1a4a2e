import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import net from 'node:net';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** The exit status of a service that found its home held by another: the CLI that started it waits for that one. */
export const HOME_HELD_EXIT_CODE = 75;

/** A held home: released by `release()` or, whatever way the process ends, by the kernel. */
export interface HomeLock {
  release(): Promise<void>;
}

/**
 * The name of the home's lock: a socket in Linux's abstract namespace (a leading NUL), so binding it is
 * atomic and the kernel frees it when the holder dies; no lock file can be left stale by a crash. The
 * namespace is the network namespace's, which the service, its CLI and the host's other services share.
 */
export function homeLockName(homeRealPath: string): string {
  return `\0agent-fleet-home-${createHash('sha256').update(homeRealPath).digest('hex').slice(0, 40)}`;
}

/**
 * Holds the fleet home for this process: one orchestrator service per home. Two services on one home
 * would both open the embedded registry (PGlite corrupts a data directory two processes write, for good),
 * the embedded secret store and the host firewall's chain; two `make provision` typed at once on a fresh
 * machine each start one. Refused with `conflict` while another process holds it.
 */
export async function holdHome(homeDir: string): Promise<HomeLock> {
  const name = homeLockName(await realpath(homeDir));
  const server = net.createServer((connection) => connection.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new FleetError('conflict', `another orchestrator service is already using ${homeDir}`, { retryable: true })
          : new FleetError('unavailable', `cannot take the lock of ${homeDir}: ${error.message}`, { cause: error }),
      );
    });
    server.listen(name, () => resolve());
  });
  server.unref();
  return {
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

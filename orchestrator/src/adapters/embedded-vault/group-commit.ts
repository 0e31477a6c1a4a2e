export interface GroupCommit {
  /** Resolves once a save that started after this call has finished. */
  commit(): Promise<void>;
  /** Resolves when no save is running or waiting (a failed one included). */
  idle(): Promise<void>;
}

/**
 * Serialises `save` (one at a time, so a slow save never lands after a newer one) and lets every commit
 * asked for while a save runs share the next one, which starts after it. `save` must snapshot what it saves
 * when it starts: the shared save then holds every change made before any of its callers asked, and a burst
 * of N writes waits on two saves at most instead of N.
 */
export function groupCommit(save: () => Promise<void>): GroupCommit {
  let running: Promise<void> = Promise.resolve();
  let next: Promise<void> | null = null;
  return {
    commit: () => {
      if (next) return next;
      const queued = running.then(() => {
        next = null;
        return save();
      });
      next = queued;
      running = queued.catch(() => undefined);
      return queued;
    },
    idle: () => running,
  };
}

import { join } from 'node:path';

/** The layout of the client's volume. */
export function runtimePaths(dataDir: string) {
  return {
    killFlag: join(dataDir, 'KILLED'),
    wrappedKey: join(dataDir, 'keys', 'data-key.wrapped'),
    audit: join(dataDir, 'audit'),
    outbox: join(dataDir, 'outbox'),
    state: join(dataDir, 'state'),
  } as const;
}

// The unix socket rule shared by the orchestrator's environment schema (config.ts).

/**
 * Bytes a unix socket's path may have: `sun_path` holds 108 on Linux (Node binds a path that fills it,
 * without the terminating NUL) and 104 on macOS and the BSDs (where the NUL must fit). A longer path passes
 * every path check and then fails only at bind or connect, with a bare EINVAL that names no setting: the
 * service never starts and the CLI cannot reach it.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 108 : 103;

/** Why `socketPath` cannot be a unix socket's path (`advice`: what to shorten), or undefined. */
export function socketPathIssue(socketPath: string, advice: string): string | undefined {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes <= MAX_SOCKET_PATH_BYTES) return undefined;
  return `is too long: the unix socket ${socketPath} would be ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES} a socket path may have; ${advice}`;
}

/** The first Docker Engine that keeps ports published on 127.0.0.1 off the LAN segment. */
export const SAFE_LOOPBACK_PUBLISHING_MAJOR = 28;

/**
 * Engines before 28 let hosts on the same L2 segment reach ports published on 127.0.0.1 (the agents'
 * control and metrics ports), so ops are warned on every provision until the engine is upgraded.
 */
export function loopbackPublishingWarnings(engineVersion: string): string[] {
  const major = Number(/^(\d+)\./.exec(engineVersion.trim())?.[1]);
  if (!Number.isInteger(major)) return [`Docker Engine version ${JSON.stringify(engineVersion)} is not recognised; use 28 or newer in production`];
  if (major >= SAFE_LOOPBACK_PUBLISHING_MAJOR) return [];
  return [
    `Docker Engine ${engineVersion} exposes ports published on 127.0.0.1 to hosts on the same network segment; use ${SAFE_LOOPBACK_PUBLISHING_MAJOR} or newer in production (or firewall the host)`,
  ];
}

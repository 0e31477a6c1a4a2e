/** `fleet kill`: how fast, what was revoked, whether the agent is confirmed stopped, and how to undo it. */
export function formatKilled(
  clientId: string,
  result: { revokedTokens: number; containerStopped: boolean; durationMs: number },
): string {
  const container = result.containerStopped ? 'stopped' : 'NOT confirmed stopped';
  return `${clientId} KILLED in ${Math.round(result.durationMs)} ms: ${result.revokedTokens} token(s) revoked, container ${container}. Undo with: fleet revive ${clientId} --reason "…"`;
}

export function formatRevived(clientId: string): string {
  return `${clientId} revived and active.`;
}

export function formatRotated(
  clientId: string,
  result: { revokedTokens: number; dataKeyVersion: number },
): string {
  return `${clientId}: ${result.revokedTokens} old token(s) revoked, data key now version ${result.dataKeyVersion}, agent re-introduced.`;
}

export function formatResumed(clientId: string): string {
  return `${clientId}: sending resumed.`;
}

/** `fleet service start|status`. */
export function formatServiceState(running: boolean, socketPath?: string): string {
  if (!running) return 'orchestrator not running';
  return socketPath === undefined ? 'orchestrator running' : `orchestrator running (socket ${socketPath})`;
}

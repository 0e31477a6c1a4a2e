import type { AgentHealthProbe } from '../../ports/agent-health.ts';

/** Probes `http://<address>/healthz` with a short timeout. */
export class HttpAgentHealthProbe implements AgentHealthProbe {
  private readonly timeoutMs: number;

  constructor(timeoutMs = 1000) {
    this.timeoutMs = timeoutMs;
  }

  async isHealthy(controlAddress: string): Promise<boolean> {
    try {
      const response = await fetch(`http://${controlAddress}/healthz`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }
}

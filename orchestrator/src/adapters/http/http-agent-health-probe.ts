import type { Agent } from 'node:https';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentHealthProbe } from '../../ports/agent-health.ts';
import { agentRequest, fleetCaAgent } from './agent-https.ts';

/**
 * Probes `https://<address>/healthz` with a short timeout; an agent that is not `clientId`'s (its
 * certificate names another client, or another CA signed it) is not healthy.
 */
export class HttpAgentHealthProbe implements AgentHealthProbe {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(options: { caPem: string; timeoutMs?: number }) {
    this.agent = fleetCaAgent(options.caPem);
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  async isHealthy(clientId: ClientId, controlAddress: string): Promise<boolean> {
    try {
      const response = await agentRequest(this.agent, clientId, controlAddress, { method: 'GET', path: '/healthz', timeoutMs: this.timeoutMs });
      response.resume();
      return response.statusCode === 200;
    } catch {
      return false;
    }
  }
}

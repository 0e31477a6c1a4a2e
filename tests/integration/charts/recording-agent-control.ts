import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentControl, IntroductionPayload } from '../../../orchestrator/src/ports/agent-control.ts';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';

export interface ControlCall {
  /** 'healthz', 'introduce', 'readyz', or the method and path of an authenticated call. */
  call: string;
  /** The host:port the orchestrator asked for. */
  address: string;
  vaultAddr?: string;
}

/**
 * Stands in for agents' control APIs where their addresses cannot resolve (the Service DNS names of a
 * cluster): records which address each service asked for and answers as a healthy, introduced agent.
 */
export class RecordingAgentControl implements AgentControl, AgentHealthProbe {
  readonly calls: ControlCall[] = [];

  async isHealthy(_clientId: ClientId, controlAddress: string): Promise<boolean> {
    this.calls.push({ call: 'healthz', address: controlAddress });
    return true;
  }

  async introduce(_clientId: ClientId, controlAddress: string, payload: IntroductionPayload): Promise<void> {
    this.calls.push({ call: 'introduce', address: controlAddress, vaultAddr: payload.vaultAddr });
  }

  async waitReady(_clientId: ClientId, controlAddress: string): Promise<void> {
    this.calls.push({ call: 'readyz', address: controlAddress });
  }

  async request<T>(_clientId: ClientId, controlAddress: string, _token: string, method: 'GET' | 'POST', path: string): Promise<T> {
    this.calls.push({ call: `${method} ${path}`, address: controlAddress });
    return {} as T;
  }

  async stream(_clientId: ClientId, controlAddress: string, _token: string, path: string): Promise<void> {
    this.calls.push({ call: `GET ${path}`, address: controlAddress });
  }
}

import type { ClientId } from '@agent-fleet/agent/domain/client-id.ts';
import { FleetError } from '@agent-fleet/agent/domain/fleet-error.ts';
import type { AgentHealthProbe } from '../ports/agent-health.ts';
import type { AgentWorkloadState, ContainerRuntime } from '../ports/container-runtime.ts';

const EXIT_CODE_HINTS: Record<number, string> = {
  78: 'the agent rejected its config (see `docker logs`)',
  137: 'killed, possibly out of memory',
};

/** Polls the agent's /healthz until it answers, the agent exits, or the timeout passes. */
export async function waitForAgentHealth(
  runtime: ContainerRuntime,
  probe: AgentHealthProbe,
  clientId: ClientId,
  timeoutMs: number,
  pollIntervalMs = 100,
): Promise<AgentWorkloadState & { hostPorts: { control: number; metrics: number } }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await runtime.inspectAgent(clientId);
    if (!state) throw new FleetError('not_found', `agent of ${clientId} disappeared while starting`);
    if (!state.running && state.status !== 'created' && state.status !== 'restarting') {
      const hint = state.exitCode === null ? '' : ` (${EXIT_CODE_HINTS[state.exitCode] ?? 'see `docker logs`'})`;
      throw new FleetError('unavailable', `agent of ${clientId} exited with code ${state.exitCode ?? 'unknown'}${hint}`);
    }
    if (state.hostPorts && (await probe.isHealthy(`127.0.0.1:${state.hostPorts.control}`))) {
      return { ...state, hostPorts: state.hostPorts };
    }
    if (Date.now() >= deadline) {
      throw new FleetError('timeout', `agent of ${clientId} did not answer /healthz within ${Math.round(timeoutMs / 1000)} s`, {
        retryable: true,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

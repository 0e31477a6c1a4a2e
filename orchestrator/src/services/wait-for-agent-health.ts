import { resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentHealthProbe } from '../ports/agent-health.ts';
import type { AgentEndpoints, AgentWorkloadState, ContainerRuntime } from '../ports/container-runtime.ts';

const EXIT_CODE_HINTS: Record<number, string> = {
  78: 'the agent rejected its config',
  137: 'killed, possibly out of memory',
};

function logsCommand(runtime: ContainerRuntime, clientId: ClientId): string {
  const names = resourceNames(clientId);
  return runtime.kind === 'kubernetes' ? `kubectl logs -n ${names.namespace} deployment/${names.container}` : `docker logs ${names.container}`;
}

/** Polls the agent's /healthz until it answers, the agent exits, or the timeout passes. */
export async function waitForAgentHealth(
  runtime: ContainerRuntime,
  probe: AgentHealthProbe,
  clientId: ClientId,
  timeoutMs: number,
  pollIntervalMs = 100,
): Promise<AgentWorkloadState & { endpoints: AgentEndpoints }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await runtime.inspectAgent(clientId);
    if (!state) throw new FleetError('not_found', `agent of ${clientId} disappeared while starting`);
    if (!state.running && state.status !== 'created' && state.status !== 'restarting') {
      const known = state.exitCode === null ? undefined : EXIT_CODE_HINTS[state.exitCode];
      const hint = state.exitCode === null ? '' : ` (${known ? `${known}; ` : ''}see \`${logsCommand(runtime, clientId)}\`)`;
      throw new FleetError('unavailable', `agent of ${clientId} exited with code ${state.exitCode ?? 'unknown'}${hint}`);
    }
    if (state.endpoints && (await probe.isHealthy(clientId, state.endpoints.control))) {
      return { ...state, endpoints: state.endpoints };
    }
    if (Date.now() >= deadline) {
      throw new FleetError('timeout', `agent of ${clientId} did not answer /healthz within ${Math.round(timeoutMs / 1000)} s`, {
        retryable: true,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

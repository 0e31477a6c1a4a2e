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

/** How often the health wait asks: backoff from `firstIntervalMs` (×1.5 a poll) up to `maxIntervalMs`. */
export interface HealthPolling {
  firstIntervalMs: number;
  maxIntervalMs: number;
  /** Between two inspections of the workload (has it exited?) while /healthz does not answer. */
  inspectEveryMs: number;
}

// Probes before the agent listens fail at once (connection refused or reset), so polling often is cheap.
export const DEFAULT_HEALTH_POLLING: Readonly<HealthPolling> = { firstIntervalMs: 10, maxIntervalMs: 50, inspectEveryMs: 250 };

function hasExited(state: AgentWorkloadState): boolean {
  return !state.running && state.status !== 'created' && state.status !== 'restarting';
}

function exitedError(runtime: ContainerRuntime, clientId: ClientId, state: AgentWorkloadState, cause?: unknown): FleetError {
  const known = state.exitCode === null ? undefined : EXIT_CODE_HINTS[state.exitCode];
  const hint = state.exitCode === null ? '' : ` (${known ? `${known}; ` : ''}see \`${logsCommand(runtime, clientId)}\`)`;
  return new FleetError('unavailable', `agent of ${clientId} exited with code ${state.exitCode ?? 'unknown'}${hint}`, cause === undefined ? {} : { cause });
}

/**
 * What a failed request to a healthy, starting agent means: the agent answers /healthz before its runtime
 * has loaded, so an agent that then fails to start shows up as a broken request. When it has exited, the
 * error says so, with its exit code and where its logs are (`error` as the cause); otherwise `error`.
 */
export async function explainedByExit(runtime: ContainerRuntime, clientId: ClientId, error: unknown): Promise<unknown> {
  const state = await runtime.inspectAgent(clientId).catch(() => null);
  return state !== null && hasExited(state) ? exitedError(runtime, clientId, state, error) : error;
}

/**
 * Polls the agent's /healthz with backoff from the call (right after the workload's start) until it
 * answers, the agent exits, or the timeout passes. The workload is inspected until its endpoints are
 * known, then only every `inspectEveryMs` while /healthz does not answer, to notice an agent that exited.
 */
export async function waitForAgentHealth(
  runtime: ContainerRuntime,
  probe: AgentHealthProbe,
  clientId: ClientId,
  timeoutMs: number,
  polling: Partial<HealthPolling> = {},
): Promise<AgentWorkloadState & { endpoints: AgentEndpoints }> {
  const { firstIntervalMs, maxIntervalMs, inspectEveryMs } = { ...DEFAULT_HEALTH_POLLING, ...polling };
  const deadline = Date.now() + timeoutMs;
  let intervalMs = firstIntervalMs;
  let state: AgentWorkloadState | null = null;
  let inspectedAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    if (!state?.endpoints || Date.now() - inspectedAt >= inspectEveryMs) {
      inspectedAt = Date.now();
      state = await runtime.inspectAgent(clientId);
      if (!state) throw new FleetError('not_found', `agent of ${clientId} disappeared while starting`);
      if (hasExited(state)) throw exitedError(runtime, clientId, state);
    }
    if (state.endpoints && (await probe.isHealthy(clientId, state.endpoints.control))) {
      return { ...state, endpoints: state.endpoints };
    }
    if (Date.now() >= deadline) {
      throw new FleetError('timeout', `agent of ${clientId} did not answer /healthz within ${Math.round(timeoutMs / 1000)} s`, {
        retryable: true,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
    intervalMs = Math.min(maxIntervalMs, intervalMs * 1.5);
  }
}

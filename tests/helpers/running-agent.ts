// An agent the container engine reports running, for tests of what the orchestrator does around one.
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentWorkloadState, ContainerRuntime } from '../../orchestrator/src/ports/container-runtime.ts';

/** `clientId`'s agent as the engine reports it running, on fixed loopback endpoints, its start time not known. */
export function runningAgent(clientId: ClientId): AgentWorkloadState {
  return {
    clientId,
    exists: true,
    running: true,
    status: 'running',
    exitCode: null,
    startedAt: null,
    endpoints: { control: '127.0.0.1:1', metrics: '127.0.0.1:2' },
  };
}

/** A container runtime that only inspects: `clientId`'s agent is running. */
export function runtimeWithRunningAgent(clientId: ClientId, more: Partial<ContainerRuntime> = {}): ContainerRuntime {
  return { ...more, inspectAgent: async () => runningAgent(clientId) } as Partial<ContainerRuntime> as ContainerRuntime;
}

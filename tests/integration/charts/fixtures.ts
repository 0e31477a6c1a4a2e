import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { AgentWorkloadSpec } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { AgentValuesOptions } from '../../../orchestrator/src/adapters/kubernetes/render-agent-values.ts';

export const MIB = 1024 * 1024;

/** One AgentWorkloadSpec both renderers get, shaped like the provisioner's (services/agent-workload.ts). */
export function sampleSpec(overrides: Partial<AgentWorkloadSpec> = {}): AgentWorkloadSpec {
  return {
    clientId: parseClientId('acme'),
    image: 'agent-fleet/agent:0.1.0',
    configYaml: 'provider: gmail\nadmins:\n  - ops@acme.example\n',
    environment: { AGENT_VERSION: '0.1.0', LOG_LEVEL: 'info' },
    limits: { memoryBytes: 128 * MIB, nanoCpus: 500_000_000, pids: 128, tmpfsBytes: 16 * MIB },
    hostPorts: { control: 0, metrics: 0 },
    ociRuntime: undefined,
    user: '10001:10001',
    ...overrides,
  };
}

export const valuesOptions: AgentValuesOptions = {
  replicas: 1,
  vault: { address: 'https://vault.vault.svc:8200', namespace: 'vault' },
  monitoringNamespace: 'monitoring',
  orchestratorNamespace: 'agent-fleet',
  claimCreatedOutsideRelease: true,
};

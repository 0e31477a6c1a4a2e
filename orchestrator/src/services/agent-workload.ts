import { agentConfigDocument } from '@agent-fleet/kernel/client-config-yaml';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { OrchestratorConfig } from '../config.ts';
import type { AgentWorkloadSpec } from '../ports/container-runtime.ts';

/** The workload spec for a client's agent, from the fleet's settings and the client's config. */
export function agentWorkloadSpec(
  config: Pick<OrchestratorConfig, 'agent' | 'version'>,
  clientId: ClientId,
  configYaml: string,
  extraEnvironment: Record<string, string> = {},
): AgentWorkloadSpec {
  return {
    clientId,
    image: config.agent.image,
    configYaml: agentConfigDocument(configYaml),
    environment: {
      AGENT_VERSION: config.version,
      LOG_LEVEL: 'info',
      ...(config.agent.portalUrl === undefined ? {} : { AGENT_PORTAL_URL: config.agent.portalUrl }),
      ...extraEnvironment,
    },
    limits: {
      memoryBytes: config.agent.memoryBytes,
      nanoCpus: config.agent.nanoCpus,
      pids: config.agent.pids,
      tmpfsBytes: config.agent.tmpfsBytes,
    },
    hostPorts: { control: 0, metrics: 0 },
    ociRuntime: config.agent.ociRuntime,
    user: config.agent.user,
  };
}

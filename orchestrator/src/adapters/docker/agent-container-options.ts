import type Docker from 'dockerode';
import { clientLabels, resourceNames } from '@agent-fleet/kernel/client-id';
import type { AgentWorkloadSpec } from '../../ports/container-runtime.ts';

export const AGENT_CONTROL_PORT = 8080;
export const AGENT_METRICS_PORT = 9464;
export const AGENT_DATA_PATH = '/data';

/**
 * The hardened `docker create` options for a client's agent. Pure, so every setting is unit-tested:
 * non-root, no capabilities, no privilege escalation, read-only root with a small noexec /tmp, memory
 * without swap, CPU and pids limits, an init process, bounded logs, only the client's own volume, ports
 * on 127.0.0.1 only, the client's own network. Seccomp, AppArmor and masked paths stay at the engine's
 * defaults (overriding them only ever weakens them).
 */
export function buildAgentContainerOptions(spec: AgentWorkloadSpec): Docker.ContainerCreateOptions {
  const names = resourceNames(spec.clientId);
  const hostPort = (port: number) => [{ HostIp: '127.0.0.1', HostPort: port > 0 ? String(port) : '' }];
  return {
    name: names.container,
    Image: spec.image,
    User: spec.user,
    Env: Object.entries(spec.environment).map(([key, value]) => `${key}=${value}`),
    Labels: { ...clientLabels(spec.clientId), 'io.agentfleet.component': 'agent' },
    ExposedPorts: { [`${AGENT_CONTROL_PORT}/tcp`]: {}, [`${AGENT_METRICS_PORT}/tcp`]: {} },
    StopTimeout: 10,
    HostConfig: {
      NetworkMode: names.network,
      PortBindings: {
        [`${AGENT_CONTROL_PORT}/tcp`]: hostPort(spec.hostPorts.control),
        [`${AGENT_METRICS_PORT}/tcp`]: hostPort(spec.hostPorts.metrics),
      },
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,size=${spec.limits.tmpfsBytes}` },
      Memory: spec.limits.memoryBytes,
      MemorySwap: spec.limits.memoryBytes,
      NanoCpus: spec.limits.nanoCpus,
      PidsLimit: spec.limits.pids,
      Init: true,
      IpcMode: 'private',
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Mounts: [{ Type: 'volume', Source: names.volume, Target: AGENT_DATA_PATH, ReadOnly: false }],
      // The reconciler, not the engine, restarts agents: a restart needs a fresh secret introduction.
      RestartPolicy: { Name: 'no' },
      ...(spec.ociRuntime ? { Runtime: spec.ociRuntime } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [names.network]: {} } },
  };
}

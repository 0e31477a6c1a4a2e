import type Docker from 'dockerode';
import { clientLabels, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import type { AgentWorkloadSpec } from '../../ports/container-runtime.ts';
import type { EngineHostConfig } from './engine-host-config.ts';

export const AGENT_CONTROL_PORT = 8080;
export const AGENT_METRICS_PORT = 9464;
export const AGENT_DATA_PATH = '/data';

/** Serves a client's egress proxy on its network's gateway; returns the proxy's URL. */
export type AgentEgressProxy = (clientId: ClientId, network: { gateway: string; subnet: string }) => Promise<string>;

/** An agent on an internal network: everything goes through the proxy, only the gateway (Vault) directly. */
export interface AgentEgress {
  proxyUrl: string;
  gateway: string;
}

/**
 * The proxy environment, in both spellings (some clients read only one, proxy-from-env prefers lower case).
 * NODE_USE_ENV_PROXY makes Node 24's fetch and http honour it (the Graph client, the Anthropic SDK, the
 * token and CRM calls); googleapis (gaxios) reads it itself. No secret: the proxy needs no credentials.
 */
export function egressEnvironment(egress: AgentEgress): Record<string, string> {
  const proxy = { HTTPS_PROXY: egress.proxyUrl, HTTP_PROXY: egress.proxyUrl, NO_PROXY: egress.gateway };
  const lower = Object.fromEntries(Object.entries(proxy).map(([name, value]) => [name.toLowerCase(), value]));
  return { ...proxy, ...lower, NODE_USE_ENV_PROXY: '1' };
}

/**
 * The hardened `docker create` options for a client's agent. Pure, so every setting is unit-tested:
 * non-root, no capabilities, no privilege escalation, read-only root with a small noexec /tmp, memory
 * without swap, CPU and pids limits, an init process, private IPC and cgroup namespaces, bounded logs, only the client's own volume, ports
 * on 127.0.0.1 only, the client's own network (with `egress`: the proxy environment of an internal
 * network). Seccomp, AppArmor and masked paths stay at the engine's defaults (overriding them only ever
 * weakens them).
 */
export function buildAgentContainerOptions(spec: AgentWorkloadSpec, egress: AgentEgress | null = null): Docker.ContainerCreateOptions {
  const names = resourceNames(spec.clientId);
  const hostPort = (port: number) => [{ HostIp: '127.0.0.1', HostPort: port > 0 ? String(port) : '' }];
  const hostConfig: EngineHostConfig = {
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
    // Said, not left to the engine's default (the host's namespace on cgroup v1 hosts and older engines).
    CgroupnsMode: 'private',
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    Mounts: [{ Type: 'volume', Source: names.volume, Target: AGENT_DATA_PATH, ReadOnly: false }],
    // The reconciler, not the engine, restarts agents: a restart needs a fresh secret introduction.
    RestartPolicy: { Name: 'no' },
    ...(spec.ociRuntime ? { Runtime: spec.ociRuntime } : {}),
  };
  return {
    name: names.container,
    Image: spec.image,
    User: spec.user,
    // The proxy settings come last: the spec's environment cannot point the agent elsewhere.
    Env: Object.entries({ ...spec.environment, ...(egress ? egressEnvironment(egress) : {}) }).map(([key, value]) => `${key}=${value}`),
    Labels: { ...clientLabels(spec.clientId), 'io.agentfleet.component': 'agent' },
    ExposedPorts: { [`${AGENT_CONTROL_PORT}/tcp`]: {}, [`${AGENT_METRICS_PORT}/tcp`]: {} },
    StopTimeout: 10,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: { [names.network]: {} } },
  };
}

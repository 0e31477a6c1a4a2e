import type Docker from 'dockerode';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentEndpoints } from '../../ports/container-runtime.ts';
import { AGENT_CONTROL_PORT, AGENT_METRICS_PORT, type AgentEgress, type AgentEgressProxy } from './agent-container-options.ts';

/** The proxy an agent on an internal network uses (its network must exist first); null on open networks. */
export async function agentEgressFor(
  proxy: AgentEgressProxy | null,
  clientId: ClientId,
  network: Docker.NetworkInspectInfo | null,
): Promise<AgentEgress | null> {
  if (proxy === null) return null;
  const config = network?.IPAM?.Config?.[0];
  if (!config?.Subnet || !config.Gateway) throw new FleetError('conflict', `the network of ${clientId} must exist before its agent`);
  return { proxyUrl: await proxy(clientId, { gateway: config.Gateway, subnet: config.Subnet }), gateway: config.Gateway };
}

/**
 * Docker publishes no port of a container that is only on an internal network: the host (the
 * orchestrator, Prometheus) reaches the agent at its address on the bridge, which only the host routes to.
 */
export function internalNetworkEndpoints(info: Docker.ContainerInspectInfo, network: string): AgentEndpoints | null {
  const address = info.NetworkSettings.Networks?.[network]?.IPAddress;
  if (!info.State.Running || !address) return null;
  return { control: `${address}:${AGENT_CONTROL_PORT}`, metrics: `${address}:${AGENT_METRICS_PORT}` };
}

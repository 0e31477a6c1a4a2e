import Docker from 'dockerode';
import {
  LABEL_CLIENT,
  LABEL_FLEET,
  LABEL_MANAGED,
  resourceNames,
  type ClientId,
} from '@agent-fleet/kernel/client-id';
import type { AgentIsolationInspector, IsolationFacts, NetworkFact } from '../../ports/agent-isolation.ts';
import type { HostFirewall } from '../../ports/host-firewall.ts';
import { statusCodeOf, translateDockerError } from './docker-errors.ts';
import { HELPER_COMPONENTS, LABEL_COMPONENT } from './helper-containers.ts';

const MAIL_ENDPOINT_VARIABLES = ['AGENT_GMAIL_ROOT_URL', 'AGENT_GRAPH_BASE_URL'];

/** The agent container's hardening as the Docker Engine reports it (`docker inspect` of it and its network). */
export class DockerAgentIsolation implements AgentIsolationInspector {
  private readonly docker: Docker;
  private readonly fleetId: string;
  /** Null: the fleet runs without the host firewall, which is then not checked. */
  private readonly hostFirewall: Pick<HostFirewall, 'confines'> | null;

  constructor(options: { socketPath?: string; fleetId: string; hostFirewall?: Pick<HostFirewall, 'confines'> | null }) {
    this.docker = new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
    this.fleetId = options.fleetId;
    this.hostFirewall = options.hostFirewall ?? null;
  }

  async inspectIsolation(clientId: ClientId): Promise<IsolationFacts | null> {
    const names = resourceNames(clientId);
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(names.container).inspect();
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw translateDockerError(error, `inspect container ${names.container}`);
    }
    const labels = info.Config.Labels ?? {};
    const host = info.HostConfig;
    const environment = new Map(
      (info.Config.Env ?? []).map((entry) => [
        entry.slice(0, entry.indexOf('=')),
        entry.slice(entry.indexOf('=') + 1),
      ]),
    );
    const mailEndpoint =
      MAIL_ENDPOINT_VARIABLES.map((name) => environment.get(name)).find(
        (value) => value !== undefined && value !== '',
      ) ?? null;
    return {
      workload: names.container,
      running: info.State.Running,
      managed:
        labels[LABEL_MANAGED] === 'true' &&
        labels[LABEL_CLIENT] === clientId &&
        labels[LABEL_FLEET] === this.fleetId,
      user: info.Config.User ?? '',
      capDrop: host.CapDrop ?? [],
      capAdd: host.CapAdd ?? [],
      privileged: host.Privileged === true,
      noNewPrivileges: (host.SecurityOpt ?? []).some((option: string) =>
        /^no-new-privileges(:true|=true)?$/.test(option),
      ),
      readOnlyRootfs: host.ReadonlyRootfs === true,
      memoryBytes: host.Memory ?? 0,
      memorySwapBytes: host.MemorySwap ?? 0,
      nanoCpus: host.NanoCpus ?? 0,
      pidsLimit: host.PidsLimit ?? 0,
      mounts: (info.Mounts ?? []).map((mount) => ({
        type: mount.Type,
        source: mount.Name ?? mount.Source,
        target: mount.Destination,
        readOnly: mount.RW === false,
      })),
      publishedHostIps: Object.values(host.PortBindings ?? {}).flatMap((bindings) =>
        ((bindings ?? []) as { HostIp?: string }[]).map((binding) => binding.HostIp ?? ''),
      ),
      networks: Object.keys(info.NetworkSettings.Networks ?? {}),
      network: await this.network(names.network, info.Id, clientId),
      mailEndpoint,
    };
  }

  private async network(name: string, containerId: string, clientId: ClientId): Promise<NetworkFact | null> {
    let network: Docker.NetworkInspectInfo;
    try {
      network = (await this.docker.getNetwork(name).inspect()) as Docker.NetworkInspectInfo;
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw translateDockerError(error, `inspect network ${name}`);
    }
    const containers = (network as { Containers?: Record<string, { Name?: string }> }).Containers ?? {};
    const others = Object.entries(containers).filter(([id]) => id !== containerId);
    const labels = others.length === 0 ? new Map<string, Record<string, string>>() : await this.labelsOfContainersOn(name);
    const gateway = network.IPAM?.Config?.[0]?.Gateway;
    return {
      name,
      internal: network.Internal === true,
      iccDisabled: network.Options?.['com.docker.network.bridge.enable_icc'] === 'false',
      // Only the agent's own volume reader, as its labels say, may share its network. Not a name: another
      // client's agent (`fleet-acme-corp` on acme's network) starts with the same `fleet-acme-`.
      strangers: others.filter(([id]) => !this.isOwnHelper(labels.get(id), clientId)).map(([, container]) => container.Name ?? '?'),
      hostFenced: this.hostFirewall === null ? null : gateway !== undefined && (await this.hostFirewall.confines({ gateway })),
    };
  }

  /** The labels of each container attached to the network `name`, by container id. */
  private async labelsOfContainersOn(name: string): Promise<Map<string, Record<string, string>>> {
    try {
      const attached = await this.docker.listContainers({ all: true, filters: { network: [name] } });
      return new Map(attached.map((container) => [container.Id, container.Labels ?? {}]));
    } catch (error) {
      throw translateDockerError(error, `list the containers on network ${name}`);
    }
  }

  private isOwnHelper(labels: Record<string, string> | undefined, clientId: ClientId): boolean {
    return (
      labels?.[LABEL_MANAGED] === 'true' &&
      labels[LABEL_CLIENT] === clientId &&
      labels[LABEL_FLEET] === this.fleetId &&
      (HELPER_COMPONENTS as readonly string[]).includes(labels[LABEL_COMPONENT] ?? '')
    );
  }
}

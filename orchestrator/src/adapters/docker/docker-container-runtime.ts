import Docker from 'dockerode';
import { clientLabels, LABEL_CLIENT, LABEL_FLEET, LABEL_MANAGED, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { gatewayOf, parseIpv4Cidr } from '../../domain/ipv4-cidr.ts';
import type {
  AgentVolumes,
  AgentWorkloadSpec,
  AgentWorkloadState,
  ContainerRuntime,
  ManagedResource,
  NetworkInfo,
} from '../../ports/container-runtime.ts';
import { DockerAgentVolumes } from './docker-agent-volumes.ts';
import { agentEgressFor, internalNetworkEndpoints } from './docker-agent-egress.ts';
import { AGENT_CONTROL_PORT, AGENT_DATA_PATH, AGENT_METRICS_PORT, buildAgentContainerOptions, type AgentEgressProxy } from './agent-container-options.ts';
import { AGENT_VOLUME_DRIVER, foreignVolumeReason } from './agent-volume-shape.ts';
import { agentContainerDrift, agentImageFacts, type AgentImageFacts } from './agent-container-drift.ts';
import { statusCodeOf, translateCreateError, translateDockerError } from './docker-errors.ts';
import { loopbackPublishingWarnings } from './engine-version.ts';
import { killContainer } from './kill-container.ts';
import { placedFilesArchive } from './tar-files.ts';

/** Runs agents as hardened containers on one Docker Engine; owns only what carries our labels. */
export class DockerContainerRuntime implements ContainerRuntime {
  readonly kind = 'docker' as const;
  private readonly docker: Docker;
  private readonly fleetId: string;
  private warnings: Promise<string[]> | null = null;
  readonly volumes: AgentVolumes;

  /** Set: client networks are internal and agents reach out only through this proxy (FLEET_AGENT_EGRESS=proxy). */
  private readonly egressProxy: AgentEgressProxy | null;

  constructor(options: { socketPath?: string; fleetId: string; egressProxy?: AgentEgressProxy | null }) {
    this.docker = new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
    this.fleetId = options.fleetId;
    this.egressProxy = options.egressProxy ?? null;
    this.volumes = new DockerAgentVolumes(this.docker, this.fleetId);
  }

  private labels(clientId: ClientId): Record<string, string> {
    return { ...clientLabels(clientId), [LABEL_FLEET]: this.fleetId };
  }

  private managedFilter() {
    return { label: [`${LABEL_MANAGED}=true`, `${LABEL_FLEET}=${this.fleetId}`] };
  }

  /** Ours: managed, of this fleet, for this client. Anything else is never touched. */
  private ownedBy(labels: Record<string, string> | undefined | null, clientId: ClientId): boolean {
    return labels?.[LABEL_MANAGED] === 'true' && labels[LABEL_FLEET] === this.fleetId && labels[LABEL_CLIENT] === clientId;
  }

  async ensureVolume(clientId: ClientId): Promise<{ created: boolean }> {
    const name = resourceNames(clientId).volume;
    try {
      const existing = await this.docker.getVolume(name).inspect();
      const foreign = foreignVolumeReason(existing, clientId, this.fleetId);
      // Never adopted and never removed: what it holds may be someone's data.
      if (foreign !== null) throw new FleetError('conflict', `volume ${name} exists but ${foreign}; refusing to use it (inspect it and remove it by hand)`);
      return { created: false };
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw translateDockerError(error, `inspect volume ${name}`);
    }
    let made: Docker.VolumeInspectInfo;
    try {
      await this.docker.createVolume({ Name: name, Driver: AGENT_VOLUME_DRIVER, Labels: this.labels(clientId) });
      made = await this.docker.getVolume(name).inspect();
    } catch (error) {
      throw translateDockerError(error, `create volume ${name}`);
    }
    // The engine answers a create of a name that already exists (made since the inspect) with that volume, as it is.
    const foreign = foreignVolumeReason(made, clientId, this.fleetId);
    if (foreign !== null) throw new FleetError('conflict', `volume ${name} was made by someone else while it was being created: ${foreign}; refusing to use it`);
    return { created: true };
  }

  async removeVolume(clientId: ClientId): Promise<void> {
    const name = resourceNames(clientId).volume;
    try {
      const existing = await this.docker.getVolume(name).inspect();
      if (!this.ownedBy(existing.Labels ?? undefined, clientId)) return;
      // Labelled as ours but not made as ours (a bind of a host directory, a remote share): removing it would
      // report the client's data erased while it stays where the volume pointed.
      const foreign = foreignVolumeReason(existing, clientId, this.fleetId);
      if (foreign !== null) throw new FleetError('conflict', `volume ${name} is labelled as the client's but ${foreign}; refusing to remove it (inspect it and remove it by hand)`);
      await this.docker.getVolume(name).remove({ force: true });
    } catch (error) {
      if (statusCodeOf(error) === 404) return;
      throw translateDockerError(error, `remove volume ${name}`);
    }
  }

  async ensureNetwork(clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> {
    const name = resourceNames(clientId).network;
    let existing = await this.inspectNetwork(name);
    if (existing) {
      if (!this.ownedBy(existing.Labels, clientId)) {
        throw new FleetError('conflict', `network ${name} exists but is not managed by agent-fleet for ${clientId}`);
      }
      if (!this.isolatedAsConfigured(existing)) existing = await this.replaceLooseNetwork(name);
    }
    if (existing) {
      const config = existing.IPAM?.Config?.[0];
      return {
        name,
        subnet: config?.Subnet ?? subnet,
        gateway: config?.Gateway ?? gatewayOf(parseIpv4Cidr(subnet)),
        created: false,
      };
    }
    const gateway = gatewayOf(parseIpv4Cidr(subnet));
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        // Internal: no route off the bridge; the gateway (Vault, egress proxy) stays reachable.
        Internal: this.egressProxy !== null,
        Attachable: false,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
        Labels: this.labels(clientId),
      });
    } catch (error) {
      throw translateDockerError(error, `create network ${name} on ${subnet}`);
    }
    return { name, subnet, gateway, created: true };
  }

  /**
   * Made as this runtime makes networks now: a bridge, internal exactly when agents go out through the proxy,
   * not attachable, with no driver option but ICC off. Any other driver (macvlan puts the agent on the LAN)
   * or bridge option (another bridge device, a host binding address, masquerading) is not our network.
   */
  private isolatedAsConfigured(network: Docker.NetworkInspectInfo): boolean {
    const options = network.Options ?? {};
    return (
      network.Driver === 'bridge' &&
      network.Internal === (this.egressProxy !== null) &&
      network.Attachable !== true &&
      (network as { Ingress?: boolean }).Ingress !== true &&
      Object.keys(options).length === 1 &&
      options['com.docker.network.bridge.enable_icc'] === 'false'
    );
  }

  /**
   * A network left from another configuration (one made before FLEET_AGENT_EGRESS=proxy has a route off the
   * bridge) is never adopted: removed, so that ensureNetwork makes it anew; refused while something uses it.
   */
  private async replaceLooseNetwork(name: string): Promise<null> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw new FleetError('conflict', `network ${name} is not isolated as this fleet is configured and could not be replaced; deprovision the client first`, {
        cause: error,
      });
    }
    return null;
  }

  async removeNetwork(clientId: ClientId): Promise<void> {
    const name = resourceNames(clientId).network;
    const existing = await this.inspectNetwork(name);
    if (!existing || !this.ownedBy(existing.Labels, clientId)) return;
    try {
      await this.docker.getNetwork(name).remove();
    } catch (error) {
      if (statusCodeOf(error) === 404) return;
      throw translateDockerError(error, `remove network ${name}`);
    }
  }

  async listSubnetsInUse(): Promise<string[]> {
    try {
      const networks = await this.docker.listNetworks();
      return networks.flatMap((network) => (network.IPAM?.Config ?? []).map((config) => config.Subnet ?? '').filter(Boolean));
    } catch (error) {
      throw translateDockerError(error, 'list networks');
    }
  }

  async createAgent(spec: AgentWorkloadSpec): Promise<void> {
    const name = resourceNames(spec.clientId).container;
    const existing = await this.inspectContainer(name);
    if (existing && !this.ownedBy(existing.Config.Labels, spec.clientId)) {
      throw new FleetError('conflict', `container ${name} exists but is not managed by agent-fleet for ${spec.clientId}`);
    }
    const network = this.egressProxy && (await this.inspectNetwork(resourceNames(spec.clientId).network));
    const built = buildAgentContainerOptions(spec, await agentEgressFor(this.egressProxy, spec.clientId, network || null));
    const options = { ...built, Labels: { ...built.Labels, [LABEL_FLEET]: this.fleetId } };
    if (existing) {
      // A leftover (of a crash, an older release or another configuration) is adopted only when it is the
      // container this call would make: one with an older image or looser confinement is made anew.
      const drift = agentContainerDrift(options, existing, await this.imageFacts(spec.image));
      if (drift.length === 0) return;
      await this.removeContainer(name);
    }
    try {
      await this.docker.createContainer(options);
    } catch (error) {
      throw translateCreateError(error, spec.image, `create container ${name}`);
    }
    // The config reaches the agent sealed, with each start's TLS handover (services/agent-tls/tls-armed-runtime.ts):
    // never an env var, a bind mount or a plaintext file in the volume.
  }

  private async imageFacts(image: string): Promise<AgentImageFacts> {
    try {
      return agentImageFacts(await this.docker.getImage(image).inspect());
    } catch (error) {
      if (statusCodeOf(error) === 404) {
        throw new FleetError('not_found', `image ${image} is not present on this host: run \`make images\``, { cause: error });
      }
      throw translateDockerError(error, `inspect image ${image}`);
    }
  }

  private async removeContainer(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).remove({ force: true, v: false });
    } catch (error) {
      if (statusCodeOf(error) === 404) return;
      throw translateDockerError(error, `remove container ${name}`);
    }
  }

  async placeFiles(clientId: ClientId, files: Readonly<Record<string, string>>, user: string): Promise<void> {
    const name = resourceNames(clientId).container;
    const fileNames = Object.keys(files);
    if (fileNames.length === 0) return;
    const archive = await placedFilesArchive(files, user);
    try {
      await this.docker.getContainer(name).putArchive(archive, { path: AGENT_DATA_PATH });
    } catch (error) {
      throw translateDockerError(error, `write ${fileNames.join(', ')} into ${name}`);
    }
  }

  /** On Docker a placed file lands in the agent's own volume, where the agent removes its flag on revive. */
  async removePlacedFile(_clientId: ClientId, _fileName: string): Promise<void> {}

  async startAgent(clientId: ClientId): Promise<void> {
    const name = resourceNames(clientId).container;
    try {
      await this.docker.getContainer(name).start();
    } catch (error) {
      if (statusCodeOf(error) === 304) return;
      throw translateDockerError(error, `start container ${name}`);
    }
  }

  async stopAgent(clientId: ClientId, graceSeconds: number): Promise<void> {
    const name = resourceNames(clientId).container;
    const container = this.docker.getContainer(name);
    try {
      if (graceSeconds === 0) {
        // The kill switch: SIGKILL, then wait only until the process is gone (not for network teardown).
        await killContainer(this.docker, name);
      } else {
        await container.stop({ t: graceSeconds });
      }
    } catch (error) {
      const status = statusCodeOf(error);
      // 304: already stopped; 404: gone; 409 from kill: "is not running". Each means: not running.
      if (status === 304 || status === 404 || (graceSeconds === 0 && status === 409)) return;
      throw translateDockerError(error, `stop container ${name}`);
    }
  }

  async removeAgent(clientId: ClientId): Promise<void> {
    const name = resourceNames(clientId).container;
    const existing = await this.inspectContainer(name);
    if (!existing || !this.ownedBy(existing.Config.Labels, clientId)) return;
    await this.removeContainer(name);
  }

  async inspectAgent(clientId: ClientId): Promise<AgentWorkloadState | null> {
    const info = await this.inspectContainer(resourceNames(clientId).container);
    if (!info || !this.ownedBy(info.Config.Labels, clientId)) return null;
    const portOf = (port: number) => Number(info.NetworkSettings.Ports?.[`${port}/tcp`]?.[0]?.HostPort ?? 0);
    const control = portOf(AGENT_CONTROL_PORT);
    const metrics = portOf(AGENT_METRICS_PORT);
    return {
      clientId,
      exists: true,
      running: info.State.Running,
      status: info.State.Status,
      exitCode: info.State.Running ? null : info.State.ExitCode,
      startedAt: info.State.StartedAt || null,
      endpoints: control && metrics ? { control: `127.0.0.1:${control}`, metrics: `127.0.0.1:${metrics}` } : this.egressProxy ? internalNetworkEndpoints(info, resourceNames(clientId).network) : null,
    };
  }

  async listManaged(): Promise<ManagedResource[]> {
    try {
      const [containers, volumes, networks] = await Promise.all([
        this.docker.listContainers({ all: true, filters: this.managedFilter() }),
        this.docker.listVolumes({ filters: this.managedFilter() }),
        this.docker.listNetworks({ filters: this.managedFilter() }),
      ]);
      return [
        ...containers.map((container) => ({
          kind: 'container' as const,
          name: (container.Names[0] ?? '').replace(/^\//, ''),
          clientId: container.Labels[LABEL_CLIENT] ?? '',
        })),
        ...(volumes.Volumes ?? []).map((volume) => ({
          kind: 'volume' as const,
          name: volume.Name,
          clientId: volume.Labels?.[LABEL_CLIENT] ?? '',
        })),
        ...networks.map((network) => ({
          kind: 'network' as const,
          name: network.Name,
          clientId: network.Labels?.[LABEL_CLIENT] ?? '',
        })),
      ];
    } catch (error) {
      throw translateDockerError(error, 'list managed resources');
    }
  }

  /** Asked of the engine once, not on every provision; an engine upgrade shows after the service restarts. */
  preflightWarnings(): Promise<string[]> {
    const warnings = (this.warnings ??= this.engineVersion().then(loopbackPublishingWarnings));
    // A failed check is not remembered: the next provision asks again.
    warnings.catch(() => {
      if (this.warnings === warnings) this.warnings = null;
    });
    return warnings;
  }

  /** Engine version, for the preflight warning about 127.0.0.1-published ports on engines before 28. */
  async engineVersion(): Promise<string> {
    try {
      return (await this.docker.version()).Version;
    } catch (error) {
      throw translateDockerError(error, 'query engine version');
    }
  }

  private async inspectContainer(name: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(name).inspect();
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw translateDockerError(error, `inspect container ${name}`);
    }
  }

  private async inspectNetwork(name: string): Promise<Docker.NetworkInspectInfo | null> {
    try {
      return (await this.docker.getNetwork(name).inspect()) as Docker.NetworkInspectInfo;
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw translateDockerError(error, `inspect network ${name}`);
    }
  }
}

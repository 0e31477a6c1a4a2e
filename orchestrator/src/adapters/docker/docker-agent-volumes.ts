import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LABEL_CLIENT, LABEL_FLEET, LABEL_MANAGED, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentVolumes, VolumeReaderSpec, VolumeSwapOutcome } from '../../ports/container-runtime.ts';
import { AGENT_CONTROL_PORT, AGENT_DATA_PATH, buildAgentContainerOptions } from './agent-container-options.ts';
import { foreignVolumeReason } from './agent-volume-shape.ts';
import { internalNetworkEndpoints } from './docker-agent-egress.ts';
import { statusCodeOf, translateCreateError, translateDockerError } from './docker-errors.ts';
import { HELPER_COMPONENTS, LABEL_COMPONENT, runHelper, volumeHelperOptions } from './helper-containers.ts';
import { checkStagingName, restageTar } from './restage-tar.ts';
import { placedFilesArchive } from './tar-files.ts';
import { VOLUME_SWAP_SCRIPT } from './volume-swap-script.ts';

const SWAP_OUTCOMES: readonly VolumeSwapOutcome[] = ['swapped', 'clean', 'rolled-back', 'completed'];

/** AgentVolumes on one Docker Engine: the archive API, pause/unpause, and hardened helper containers. */
export class DockerAgentVolumes implements AgentVolumes {
  private readonly docker: Docker;
  private readonly fleetId: string;

  constructor(docker: Docker, fleetId: string) {
    this.docker = docker;
    this.fleetId = fleetId;
  }

  private get fleetLabels(): Record<string, string> {
    return { [LABEL_FLEET]: this.fleetId };
  }

  /** The agent's own container when it exists and is ours, else null. */
  private async agentContainer(clientId: ClientId): Promise<{ container: Docker.Container; info: Docker.ContainerInspectInfo } | null> {
    const container = this.docker.getContainer(resourceNames(clientId).container);
    try {
      const info = await container.inspect();
      const labels = info.Config.Labels ?? {};
      const ours = labels[LABEL_MANAGED] === 'true' && labels[LABEL_FLEET] === this.fleetId && labels[LABEL_CLIENT] === clientId;
      return ours ? { container, info } : null;
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw translateDockerError(error, `inspect container ${resourceNames(clientId).container}`);
    }
  }

  private async requireVolume(clientId: ClientId): Promise<void> {
    const name = resourceNames(clientId).volume;
    try {
      const foreign = foreignVolumeReason(await this.docker.getVolume(name).inspect(), clientId, this.fleetId);
      if (foreign !== null) throw new FleetError('conflict', `volume ${name} is not used: ${foreign}`);
    } catch (error) {
      if (statusCodeOf(error) === 404) throw new FleetError('not_found', `${clientId} has no volume ${name}`);
      throw translateDockerError(error, `inspect volume ${name}`);
    }
  }

  async freezeAgent(clientId: ClientId): Promise<boolean> {
    const agent = await this.agentContainer(clientId);
    if (!agent?.info.State.Running) return false;
    if (agent.info.State.Paused) return true;
    try {
      await agent.container.pause();
      return true;
    } catch (error) {
      throw translateDockerError(error, `pause ${resourceNames(clientId).container}`);
    }
  }

  async thawAgent(clientId: ClientId): Promise<void> {
    const agent = await this.agentContainer(clientId);
    if (!agent?.info.State.Paused) return;
    try {
      await agent.container.unpause();
    } catch (error) {
      if (statusCodeOf(error) === 409 || statusCodeOf(error) === 404) return;
      throw translateDockerError(error, `unpause ${resourceNames(clientId).container}`);
    }
  }

  async snapshot(clientId: ClientId, image: string): Promise<NodeJS.ReadableStream> {
    await this.requireVolume(clientId);
    const agent = await this.agentContainer(clientId);
    if (agent !== null) return this.archiveOf(agent.container, clientId);
    // The agent's container is gone: a never-started helper mounts the volume for the archive API.
    const helper = await this.createHelper(clientId, image, '10001:10001', true);
    let stream: Readable;
    try {
      stream = (await this.archiveOf(helper, clientId)) as Readable;
    } catch (error) {
      await helper.remove({ force: true }).catch(() => undefined);
      throw error;
    }
    stream.once('close', () => void helper.remove({ force: true }).catch(() => undefined));
    return stream;
  }

  private async archiveOf(container: Docker.Container, clientId: ClientId): Promise<NodeJS.ReadableStream> {
    try {
      return await container.getArchive({ path: `${AGENT_DATA_PATH}/.` });
    } catch (error) {
      throw translateDockerError(error, `read the volume of ${clientId}`);
    }
  }

  async stage(clientId: ClientId, image: string, name: string, tar: AsyncIterable<Uint8Array>): Promise<void> {
    checkStagingName(name);
    await this.requireVolume(clientId);
    const helper = await this.createHelper(clientId, image, '10001:10001', false);
    const restaged = restageTar(tar, name);
    try {
      await helper.putArchive(restaged.tar, { path: AGENT_DATA_PATH });
    } catch (error) {
      // A source that failed (a corrupt backup, a lost stream) is the cause, not the engine.
      throw (restaged.sourceFailure() ?? null) !== null ? restaged.sourceFailure() : translateDockerError(error, `stage a restore into the volume of ${clientId}`);
    } finally {
      await helper.remove({ force: true }).catch(() => undefined);
    }
  }

  async writeFiles(clientId: ClientId, image: string, user: string, files: Readonly<Record<string, string>>): Promise<void> {
    const archive = await placedFilesArchive(files, user);
    await this.requireVolume(clientId);
    // A never-started helper: the agent's own container may be gone (a closed client), and a reader mounts read-only.
    const helper = await this.createHelper(clientId, image, user, false);
    try {
      await helper.putArchive(archive, { path: AGENT_DATA_PATH });
    } catch (error) {
      throw translateDockerError(error, `write ${Object.keys(files).join(', ')} into the volume of ${clientId}`);
    } finally {
      await helper.remove({ force: true }).catch(() => undefined);
    }
  }

  async swap(clientId: ClientId, image: string, user: string, name: string): Promise<VolumeSwapOutcome> {
    checkStagingName(name);
    return this.runSwapScript(clientId, image, user, ['swap', name]);
  }

  recover(clientId: ClientId, image: string, user: string): Promise<VolumeSwapOutcome> {
    return this.runSwapScript(clientId, image, user, ['recover']);
  }

  private async runSwapScript(clientId: ClientId, image: string, user: string, args: string[]): Promise<VolumeSwapOutcome> {
    await this.requireVolume(clientId);
    const options = volumeHelperOptions({ clientId, fleetLabels: this.fleetLabels, image, user, readOnly: false, script: { source: VOLUME_SWAP_SCRIPT, args } });
    let helper: Docker.Container;
    try {
      helper = await this.docker.createContainer(options);
    } catch (error) {
      throw translateCreateError(error, image, `create a volume helper for ${clientId}`);
    }
    const stdout = await runHelper(helper, `the volume ${args[0]} of ${clientId}`);
    const outcome = (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { outcome?: unknown }).outcome;
    if (!SWAP_OUTCOMES.includes(outcome as VolumeSwapOutcome)) throw new FleetError('internal', `the volume helper of ${clientId} reported ${JSON.stringify(outcome)}`);
    return outcome as VolumeSwapOutcome;
  }

  async startReader(spec: VolumeReaderSpec): Promise<string> {
    await this.requireVolume(spec.clientId);
    await this.removeHelpers(spec.clientId);
    const names = resourceNames(spec.clientId);
    const base = buildAgentContainerOptions({ ...spec, configYaml: '', hostPorts: { control: 0, metrics: 0 } });
    const options: Docker.ContainerCreateOptions = {
      ...base,
      name: `${names.container}-reader`,
      Labels: { ...base.Labels, ...this.fleetLabels, [LABEL_COMPONENT]: 'volume-reader' },
      ExposedPorts: { [`${AGENT_CONTROL_PORT}/tcp`]: {} },
      HostConfig: {
        ...base.HostConfig,
        PortBindings: { [`${AGENT_CONTROL_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
        Mounts: [{ Type: 'volume', Source: names.volume, Target: AGENT_DATA_PATH, ReadOnly: true }],
      },
    };
    try {
      const container = await this.docker.createContainer(options);
      await container.start();
      // On an internal network (egress through the proxy) nothing is published: the host reaches the
      // reader at its bridge address. Otherwise the engine fills in the published port after the start.
      const internal = (await this.docker.getNetwork(names.network).inspect() as Docker.NetworkInspectInfo).Internal === true;
      const deadline = Date.now() + 15_000;
      for (;;) {
        const info = await container.inspect();
        const port = info.NetworkSettings.Ports?.[`${AGENT_CONTROL_PORT}/tcp`]?.[0]?.HostPort;
        if (port) return `127.0.0.1:${port}`;
        const bridge = internal ? internalNetworkEndpoints(info, names.network) : null;
        if (bridge !== null) return bridge.control;
        if (!info.State.Running || Date.now() > deadline) {
          const logs = (await container.logs({ stdout: true, stderr: true, tail: 5 })).toString().slice(-400);
          throw new FleetError('unavailable', `the volume reader of ${spec.clientId} did not start (${info.State.Status}, exit ${info.State.ExitCode}): ${logs}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (error) {
      await this.removeHelpers(spec.clientId).catch(() => undefined);
      throw translateCreateError(error, spec.image, `start the volume reader of ${spec.clientId}`);
    }
  }

  async removeHelpers(clientId: ClientId): Promise<void> {
    try {
      const containers = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_CLIENT}=${clientId}`, `${LABEL_FLEET}=${this.fleetId}`] },
      });
      for (const container of containers) {
        if (!(HELPER_COMPONENTS as readonly string[]).includes(container.Labels[LABEL_COMPONENT] ?? '')) continue;
        await this.docker.getContainer(container.Id).remove({ force: true }).catch((error: unknown) => {
          if (statusCodeOf(error) !== 404) throw error;
        });
      }
    } catch (error) {
      throw translateDockerError(error, `remove the volume helpers of ${clientId}`);
    }
  }

  private async createHelper(clientId: ClientId, image: string, user: string, readOnly: boolean): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer(volumeHelperOptions({ clientId, fleetLabels: this.fleetLabels, image, user, readOnly }));
    } catch (error) {
      throw translateCreateError(error, image, `create a volume helper for ${clientId}`);
    }
  }
}

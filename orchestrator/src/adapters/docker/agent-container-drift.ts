import type Docker from 'dockerode';

/** What the agent's image puts into every container made from it (the engine merges it into the container's config). */
export interface AgentImageFacts {
  id: string;
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
  entrypoint: readonly string[];
  cmd: readonly string[];
}

/** The facts of an inspected image, with the engine's nulls read as empty. */
export function agentImageFacts(image: Docker.ImageInspectInfo): AgentImageFacts {
  const config = image.Config as Partial<Docker.ImageInspectInfo['Config']> | null | undefined;
  return {
    id: image.Id,
    env: config?.Env ?? [],
    labels: config?.Labels ?? {},
    entrypoint: asList(config?.Entrypoint),
    cmd: asList(config?.Cmd),
  };
}

/**
 * How an existing agent container differs from the one `wanted` would make now from `image`: the names of the
 * settings that differ (empty: the same). Only what decides what the agent runs and how it is confined is
 * compared: the image, its command, user, environment and labels, the limits, the hardening, the mounts and
 * the networks. Settings we never make are compared with their empty value: a leftover with a bind mount, a
 * device, an added capability or the host's namespaces is never the container we would make.
 */
export function agentContainerDrift(wanted: Docker.ContainerCreateOptions, existing: Docker.ContainerInspectInfo, image: AgentImageFacts): string[] {
  const want = wanted.HostConfig ?? {};
  const have = (existing.HostConfig ?? {}) as Docker.HostConfig;
  const config = existing.Config as Partial<Docker.ContainerInspectInfo['Config']> | null | undefined;
  const checks: Array<[setting: string, same: boolean]> = [
    ['image', existing.Image === image.id],
    ['entrypoint', sameJson(asList(config?.Entrypoint), asList(wanted.Entrypoint ?? image.entrypoint))],
    ['command', sameJson(asList(config?.Cmd), asList(wanted.Cmd ?? image.cmd))],
    ['user', (config?.User ?? '') === (wanted.User ?? '')],
    ['environment', sameJson(environmentMap(config?.Env ?? []), environmentMap([...image.env, ...(wanted.Env ?? [])]))],
    ['labels', sameJson(sortedObject(config?.Labels ?? {}), sortedObject({ ...image.labels, ...wanted.Labels }))],
    ['memory', same(have.Memory, want.Memory) && same(have.MemorySwap, want.MemorySwap)],
    ['cpus', same(have.NanoCpus, want.NanoCpus)],
    ['pids limit', same(have.PidsLimit, want.PidsLimit)],
    ['tmpfs', same(have.Tmpfs, want.Tmpfs)],
    ['read-only root', same(have.ReadonlyRootfs, want.ReadonlyRootfs)],
    ['privileged', same(have.Privileged, want.Privileged)],
    ['dropped capabilities', same(capabilities(have.CapDrop), capabilities(want.CapDrop))],
    ['added capabilities', same(capabilities(have.CapAdd), capabilities(want.CapAdd))],
    ['security options', same(sortedStrings(have.SecurityOpt), sortedStrings(want.SecurityOpt))],
    ['init', same(have.Init, want.Init)],
    ['ipc mode', same(have.IpcMode, want.IpcMode)],
    ['pid mode', same(have.PidMode, want.PidMode)],
    ['user namespace mode', same(have.UsernsMode, want.UsernsMode)],
    ['devices', same(have.Devices, want.Devices)],
    ['sysctls', same(have.Sysctls, want.Sysctls)],
    ['oom kill', same(have.OomKillDisable, want.OomKillDisable)],
    ['log config', sameLogConfig(have.LogConfig, want.LogConfig)],
    ['restart policy', same(have.RestartPolicy?.Name, want.RestartPolicy?.Name)],
    // The engine names its default runtime when none was asked for: only a configured one is compared.
    ['oci runtime', want.Runtime === undefined || have.Runtime === want.Runtime],
    ['port bindings', same(have.PortBindings, want.PortBindings)],
    ['published ports', same(have.PublishAllPorts, want.PublishAllPorts)],
    ['mounts', same(mounts(have.Mounts), mounts(want.Mounts))],
    ['bind mounts', same(have.Binds, want.Binds) && same(have.VolumesFrom, want.VolumesFrom)],
    ['network mode', same(have.NetworkMode, want.NetworkMode)],
    ['networks', onlyWantedNetworks(existing, wanted)],
  ];
  return checks.filter(([, isSame]) => !isSame).map(([setting]) => setting);
}

/** Each network the container is attached to is one it would be made with (an extra one is a way out of isolation). */
function onlyWantedNetworks(existing: Docker.ContainerInspectInfo, wanted: Docker.ContainerCreateOptions): boolean {
  const allowed = new Set([...Object.keys(wanted.NetworkingConfig?.EndpointsConfig ?? {}), ...(wanted.HostConfig?.NetworkMode ? [wanted.HostConfig.NetworkMode] : [])]);
  return Object.keys(existing.NetworkSettings?.Networks ?? {}).every((network) => allowed.has(network));
}

/** The engine merges its own default log options (compress, labels, ...) into each container's: extras are not drift. */
function sameLogConfig(have: Docker.HostConfig['LogConfig'], want: Docker.HostConfig['LogConfig']): boolean {
  if (!same(have?.Type, want?.Type)) return false;
  const options = have?.Config ?? {};
  return Object.entries(want?.Config ?? {}).every(([option, value]) => options[option] === value);
}

function asList(value: string | readonly string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/** Later entries win, as the engine lets the container's environment override the image's. */
function environmentMap(entries: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals === -1) map[entry] = '';
    else map[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return sortedObject(map);
}

function sortedStrings(values: readonly string[] | null | undefined): string[] {
  return [...(values ?? [])].sort();
}

/** `NET_ADMIN` and `CAP_NET_ADMIN` name the same capability; the engine may store either. */
function capabilities(values: readonly string[] | null | undefined): string[] {
  return sortedStrings((values ?? []).map((value) => value.toUpperCase().replace(/^CAP_/, '')));
}

function mounts(values: Docker.MountConfig | null | undefined): Array<[string, string, string, boolean]> {
  return (values ?? []).map((mount): [string, string, string, boolean] => [mount.Type, mount.Source, mount.Target, mount.ReadOnly === true]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function sortedObject<T>(object: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The engine reports what was never set as null, zero, false or empty: all of them are "not set". */
function normalised(value: unknown): unknown {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(normalised);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([key, inner]) => [key, normalised(inner)] as const)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value;
}

function same(actual: unknown, wanted: unknown): boolean {
  return sameJson(normalised(actual), normalised(wanted));
}

function sameJson(actual: unknown, wanted: unknown): boolean {
  return JSON.stringify(actual) === JSON.stringify(wanted);
}

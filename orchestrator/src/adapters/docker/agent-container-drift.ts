import type Docker from 'dockerode';
import type { EngineHostConfig } from './engine-host-config.ts';

/** What the agent's image puts into every container made from it (the engine merges it into the container's config). */
export interface AgentImageFacts {
  id: string;
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
  entrypoint: readonly string[];
  cmd: readonly string[];
  workingDir: string;
  healthcheck: unknown;
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
    workingDir: config?.WorkingDir ?? '',
    healthcheck: config?.Healthcheck ?? null,
  };
}

/**
 * The paths the engine masks and makes read-only in every unprivileged container it is not told otherwise
 * about (Moby's OCI defaults since 17.06; newer engines add to them). It fills them into HostConfig at
 * create, so a container that lacks one of them was made with them weakened (`systempaths=unconfined`, or
 * an API client's own list).
 */
const ENGINE_MASKED_PATHS = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/sched_debug', '/proc/scsi', '/proc/timer_list', '/proc/timer_stats', '/sys/firmware'];
const ENGINE_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * HostConfig settings compared by a rule of their own below, and those the engine fills in with its own
 * defaults (the console size, the daemon's default /dev/shm size and, once started, its default ulimits).
 * Every other setting is compared with the one we make, which for all we never set is its empty value: a DNS server, an /etc/hosts entry, a supplementary group, a device rule or the
 * host's UTS namespace all make a container other than ours.
 */
const HOST_SETTINGS_WITH_OWN_RULE = new Set([
  'Memory', 'MemorySwap', 'NanoCpus', 'PidsLimit', 'Tmpfs', 'ReadonlyRootfs', 'Privileged', 'CapDrop', 'CapAdd', 'SecurityOpt', 'Init',
  'IpcMode', 'PidMode', 'UsernsMode', 'Devices', 'Sysctls', 'OomKillDisable', 'LogConfig', 'RestartPolicy', 'Runtime', 'PortBindings',
  'PublishAllPorts', 'Mounts', 'Binds', 'VolumesFrom', 'NetworkMode', 'MaskedPaths', 'ReadonlyPaths',
  'ConsoleSize', 'ShmSize', 'CgroupnsMode', 'Ulimits',
]);

/**
 * How an existing agent container differs from the one `wanted` would make now from `image`: the names of the
 * settings that differ (empty: the same). Only what decides what the agent runs and how it is confined is
 * compared: the image, its command, user, environment and labels, the limits, the hardening, the mounts and
 * the networks. Settings we never make are compared with their empty value: a leftover with a bind mount, a
 * device, an added capability or the host's namespaces is never the container we would make.
 */
export function agentContainerDrift(wanted: Docker.ContainerCreateOptions, existing: Docker.ContainerInspectInfo, image: AgentImageFacts): string[] {
  const want: EngineHostConfig = wanted.HostConfig ?? {};
  const have = (existing.HostConfig ?? {}) as EngineHostConfig;
  const config = existing.Config as Partial<Docker.ContainerInspectInfo['Config']> | null | undefined;
  const checks: Array<[setting: string, same: boolean]> = [
    ['image', existing.Image === image.id],
    ['entrypoint', sameJson(asList(config?.Entrypoint), asList(wanted.Entrypoint ?? image.entrypoint))],
    ['command', sameJson(asList(config?.Cmd), asList(wanted.Cmd ?? image.cmd))],
    ['user', (config?.User ?? '') === (wanted.User ?? '')],
    ['working directory', (config?.WorkingDir ?? '') === (wanted.WorkingDir ?? image.workingDir)],
    ['healthcheck', same(config?.Healthcheck, wanted.Healthcheck ?? image.healthcheck)],
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
    // An engine older than API 1.41 neither applies nor reports the mode: only a reported one is compared.
    ['cgroup namespace mode', normalised(have.CgroupnsMode) === undefined || same(have.CgroupnsMode, want.CgroupnsMode)],
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
    ['mounted', onlyWantedMounts(existing, wanted)],
    ['masked paths', keepsEnginePaths(have.MaskedPaths, ENGINE_MASKED_PATHS)],
    ['read-only paths', keepsEnginePaths(have.ReadonlyPaths, ENGINE_READONLY_PATHS)],
    ['network mode', same(have.NetworkMode, want.NetworkMode)],
    ['networks', onlyWantedNetworks(existing, wanted)],
    ...otherHostSettings(have, want).map((setting): [string, boolean] => [setting, false]),
  ];
  return checks.filter(([, isSame]) => !isSame).map(([setting]) => setting);
}

/** The names of the HostConfig settings without a rule of their own that differ from the ones we make. */
function otherHostSettings(have: Docker.HostConfig, want: Docker.HostConfig): string[] {
  const settings = new Set([...Object.keys(have), ...Object.keys(want)]);
  return [...settings]
    .filter((setting) => !HOST_SETTINGS_WITH_OWN_RULE.has(setting))
    .filter((setting) => !same((have as Record<string, unknown>)[setting], (want as Record<string, unknown>)[setting]))
    .sort();
}

/** Unset (an engine that does not report them), or holding at least every path the engine's defaults hold. */
function keepsEnginePaths(paths: readonly string[] | null | undefined, engineDefaults: readonly string[]): boolean {
  if (paths === null || paths === undefined) return true;
  return engineDefaults.every((path) => paths.includes(path));
}

/**
 * What is mounted in the container, whatever asked for it (an anonymous volume of `Config.Volumes`, a bind,
 * a mount): each is one of the volumes or tmpfs mounts we make, nothing else.
 */
function onlyWantedMounts(existing: Docker.ContainerInspectInfo, wanted: Docker.ContainerCreateOptions): boolean {
  const want = wanted.HostConfig ?? {};
  const tmpfs = new Set(Object.keys(want.Tmpfs ?? {}));
  return (existing.Mounts ?? []).every((mounted) => {
    if (mounted.Type === 'tmpfs') return tmpfs.has(mounted.Destination);
    return (want.Mounts ?? []).some(
      (mount) => mount.Type === mounted.Type && mount.Type === 'volume' && mount.Source === mounted.Name && mount.Target === mounted.Destination && (mount.ReadOnly === true) === (mounted.RW === false),
    );
  });
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

/** Each mount whole (its volume, bind and tmpfs options too), in a stable order. */
function mounts(values: Docker.MountConfig | null | undefined): unknown[] {
  return (values ?? []).map((mount) => normalised(mount)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
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

import type Docker from 'dockerode';

/** A container's HostConfig with the engine settings (API 1.41+) that @types/dockerode does not declare. */
export type EngineHostConfig = Docker.HostConfig & {
  /** The container's cgroup namespace: its own (`private`) or the host's. */
  CgroupnsMode?: 'private' | 'host' | '';
};

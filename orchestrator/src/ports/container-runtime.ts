import type { ClientId } from '@agent-fleet/kernel/client-id';

/** What to run for one client; built by the provisioner, rendered by each runtime adapter. */
export interface AgentWorkloadSpec {
  clientId: ClientId;
  image: string;
  /**
   * The client's config document (YAML 1.2; JSON when it carries the data unchanged). Kubernetes renders it
   * into the pod; Docker ignores it here: each start places the registry's config sealed with the TLS
   * handover (TlsArmedRuntime).
   */
  configYaml: string;
  /** Non-secret environment only: anything here is visible to `docker inspect`. */
  environment: Record<string, string>;
  limits: {
    memoryBytes: number;
    nanoCpus: number;
    pids: number;
    tmpfsBytes: number;
  };
  /**
   * Host ports (bound to 127.0.0.1 only) for the control API and the metrics exporter; 0 picks a free one.
   * Docker only: on Kubernetes agents are reached through their Service and this is ignored.
   */
  hostPorts: { control: number; metrics: number };
  /** OCI runtime name (runc, runsc, sysbox-runc); undefined means the engine's default. */
  ociRuntime?: string | undefined;
  /** Non-root uid:gid the agent runs as. */
  user: string;
}

export interface NetworkInfo {
  name: string;
  subnet: string;
  gateway: string;
}

/** Where the orchestrator (and Prometheus) reach an agent, each as host:port. */
export interface AgentEndpoints {
  /** The control API (/healthz, /readyz, /v1/...). */
  control: string;
  /** The Prometheus exporter (/metrics). */
  metrics: string;
}

/** What the runtime reports about a client's agent workload. */
export interface AgentWorkloadState {
  clientId: ClientId;
  exists: true;
  running: boolean;
  /** e.g. 'running', 'exited', 'created', 'restarting', 'dead' */
  status: string;
  exitCode: number | null;
  startedAt: string | null;
  /**
   * The agent's addresses as the orchestrator reaches them (Docker: 127.0.0.1 and the published ports;
   * Kubernetes: the client's Service DNS name); null while there is nothing to reach.
   */
  endpoints: AgentEndpoints | null;
}

/** A runtime resource carrying our managed label, for reconciliation and cleanup. */
export interface ManagedResource {
  kind: 'container' | 'volume' | 'network';
  name: string;
  clientId: string;
}

/**
 * Where agents run: Docker on one host, or Kubernetes. Every method is idempotent: creating what exists
 * or removing what is gone succeeds without change.
 */
export interface ContainerRuntime {
  readonly kind: 'docker' | 'kubernetes';
  /** Creates the client's private data volume; `created` is false when it already existed. */
  ensureVolume(clientId: ClientId): Promise<{ created: boolean }>;
  /** Removes the client's volume and everything in it. */
  removeVolume(clientId: ClientId): Promise<void>;
  /** Creates the client's isolated network on the given subnet (an existing one is returned as is). */
  ensureNetwork(clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }>;
  removeNetwork(clientId: ClientId): Promise<void>;
  /** Subnets already taken by any network on the host (ours or not), so allocation never overlaps. */
  listSubnetsInUse(): Promise<string[]>;
  /** Creates (does not start) the agent workload and places its config. */
  createAgent(spec: AgentWorkloadSpec): Promise<void>;
  startAgent(clientId: ClientId): Promise<void>;
  /**
   * Writes files (name → content) into the client's volume (owned by the agent user), whether the agent
   * runs or not. Files needed together go in one call: on Docker each call is one copy into the container.
   */
  placeFiles(clientId: ClientId, files: Readonly<Record<string, string>>, user: string): Promise<void>;
  /**
   * Takes back a file placed where the agent cannot delete it (Kubernetes: a key of the read-only files
   * ConfigMap), so a revived agent does not find the orchestrator's old kill flag. Absent: nothing to do.
   */
  removePlacedFile(clientId: ClientId, fileName: string): Promise<void>;
  /** Stops the agent; returns once it no longer runs. */
  stopAgent(clientId: ClientId, graceSeconds: number): Promise<void>;
  removeAgent(clientId: ClientId): Promise<void>;
  inspectAgent(clientId: ClientId): Promise<AgentWorkloadState | null>;
  /** Every resource carrying the managed label. */
  listManaged(): Promise<ManagedResource[]>;
  /** What ops should know about this host before trusting it with agents (one line each); empty when fine. */
  preflightWarnings(): Promise<string[]>;
  /** The client's volume as data (backups, restores, exports of stopped agents). */
  readonly volumes: AgentVolumes;
}

/** A helper container of the agent image on a client's volume (see AgentVolumes.startReader). */
export interface VolumeReaderSpec {
  clientId: ClientId;
  image: string;
  /** Non-root uid:gid, as the agent. */
  user: string;
  /** Non-secret environment only (VAULT_ADDR). */
  environment: Record<string, string>;
  limits: AgentWorkloadSpec['limits'];
  ociRuntime?: string | undefined;
}

/** How a restore's staged tree replaced the volume's content, or what recovery found. */
export type VolumeSwapOutcome = 'swapped' | 'clean' | 'rolled-back' | 'completed';

/**
 * The client's volume as data: snapshots for backups, staged restores, and a read-only reader for the
 * export of an agent that does not run. Docker only for now; on Kubernetes every method fails with
 * `unavailable`.
 */
export interface AgentVolumes {
  /** Freezes the agent's processes (their files stop changing); false when the agent was not running. */
  freezeAgent(clientId: ClientId): Promise<boolean>;
  /** Undoes freezeAgent; nothing to do when the agent is not frozen. */
  thawAgent(clientId: ClientId): Promise<void>;
  /**
   * The volume's whole content as a tar stream (entries `./…`, owners and modes kept). Works whether the
   * agent runs, is frozen, stopped or gone; `not_found` when there is no volume. `image` runs the helper
   * container when the agent's own container is gone.
   */
  snapshot(clientId: ClientId, image: string): Promise<NodeJS.ReadableStream>;
  /**
   * Extracts a tar of entries `./…` into the fresh staging directory `name` at the volume's root (made;
   * nothing else in the volume is touched). Refuses entries that are not plain files or directories.
   */
  stage(clientId: ClientId, image: string, name: string, tar: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * Makes the staged directory `name` the volume's content, journaled so that an interruption at any
   * point is rolled back by the next `swap` or `recover`: before the swap completes, the previous content
   * is what the volume holds. Runs a short-lived helper (no network) as `user`.
   */
  swap(clientId: ClientId, image: string, user: string, name: string): Promise<VolumeSwapOutcome>;
  /** Rolls back an interrupted swap and removes leftover staging directories. */
  recover(clientId: ClientId, image: string, user: string): Promise<VolumeSwapOutcome>;
  /** Writes small files (owned by `user`, 0640) at the volume's root, whether or not the agent's container exists. */
  writeFiles(clientId: ClientId, image: string, user: string, files: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Starts a reader: the agent image on the client's volume mounted read-only, on its network, hardened
   * like the agent, never introduced as the agent (it only serves the data export session). Returns its
   * control address. An older reader of the client is replaced.
   */
  startReader(spec: VolumeReaderSpec): Promise<string>;
  /** Removes the client's reader (and any helper container left behind); nothing to do when none. */
  removeHelpers(clientId: ClientId): Promise<void>;
}

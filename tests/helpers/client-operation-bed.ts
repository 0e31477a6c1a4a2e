// The bed of the tests of who owns a client while an operation on it runs (provisioning, revive,
// deprovision): an empty registry with a fleet home, recording stand-ins for Vault, the engine, the agent and
// the scrape targets, the provisioning and revive services over them, and the registry moves another
// operation makes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../orchestrator/src/config.ts';
import type { AgentControl } from '../../orchestrator/src/ports/agent-control.ts';
import type { AgentHealthProbe } from '../../orchestrator/src/ports/agent-health.ts';
import { systemClock } from '../../orchestrator/src/ports/clock.ts';
import type { AgentWorkloadState, ContainerRuntime, NetworkInfo } from '../../orchestrator/src/ports/container-runtime.ts';
import type { NewClient, Registry } from '../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../orchestrator/src/ports/secret-store.ts';
import type { ClientOperationGuard } from '../../orchestrator/src/services/client-operation-guard.ts';
import { STALE_OPERATION_MS } from '../../orchestrator/src/services/operation-heartbeat.ts';
import { ProvisionClientService, type ProvisionSecrets } from '../../orchestrator/src/services/provision-client.ts';
import { ReviveClientService } from '../../orchestrator/src/services/revive-client.ts';
import type { OpenedRegistry, RegistryBackend } from './registries.ts';
import { registryPerTest } from './registry-per-test.ts';

/**
 * Hooks for a describe block: `backend` opened and emptied before each test, and a temporary fleet home
 * (named after `homePrefix`). Read `bed.opened` and `bed.homeDir` inside tests and hooks.
 */
export function emptyRegistryBed(backend: RegistryBackend, homePrefix: string): { readonly opened: OpenedRegistry; readonly homeDir: string } {
  const opened = registryPerTest(backend, async () => undefined);
  let homeDir: string | undefined;
  before(async () => {
    homeDir = await mkdtemp(path.join(os.tmpdir(), `${homePrefix}-`));
  });
  after(async () => {
    if (homeDir !== undefined) await rm(homeDir, { recursive: true, force: true });
  });
  return {
    opened,
    get homeDir() {
      return homeDir ?? assert.fail('the fleet home is used before it was made');
    },
  };
}

/** Calls an operation's hook runs inside: the test's move in the middle of a step. */
export interface StandInHooks {
  createAgent?: () => Promise<void>;
  introduce?: () => Promise<void>;
}

/** Vault, the engine, the agent and the targets as provisioning and revive use them, each call recorded in `calls`. */
export function recordingStandIns(calls: string[], hooks: StandInHooks = {}) {
  const running = (clientId: ClientId): AgentWorkloadState => ({
    clientId,
    exists: true,
    running: true,
    status: 'running',
    exitCode: null,
    startedAt: new Date().toISOString(),
    endpoints: { control: '127.0.0.1:18080', metrics: '127.0.0.1:19464' },
  });
  const record = (name: string) => async () => void calls.push(name);
  const store = {
    ensureClient: record('ensureClient'),
    issueControlToken: async () => randomUUID(),
    removeClient: record('removeClient'),
    revokeAgentTokens: async () => {
      calls.push('revokeAgentTokens');
      return { revoked: 0 };
    },
    unlockClient: record('unlockClient'),
    lockClient: record('lockClient'),
    readControlToken: async () => randomUUID(),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    ensureVolume: async () => ({ created: true }),
    removeVolume: record('removeVolume'),
    listSubnetsInUse: async () => [],
    ensureNetwork: async (clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> => ({ name: `net-${clientId}`, subnet, gateway: subnet.replace(/0\/\d+$/, '1'), created: true }),
    removeNetwork: record('removeNetwork'),
    createAgent: async () => {
      calls.push('createAgent');
      await hooks.createAgent?.();
    },
    startAgent: record('startAgent'),
    inspectAgent: async (clientId: ClientId) => running(clientId),
    stopAgent: record('stopAgent'),
    removeAgent: record('removeAgent'),
    removePlacedFile: record('removePlacedFile'),
    placeFiles: record('placeFiles'),
    preflightWarnings: async () => [],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const targets = { register: record('register'), unregister: record('unregister') } as Partial<ScrapeTargets> as ScrapeTargets;
  const control = { request: async () => void calls.push('control') } as Partial<AgentControl> as AgentControl;
  const health: AgentHealthProbe = { isHealthy: async () => true };
  const introduce = async () => {
    calls.push('introduce');
    await hooks.introduce?.();
  };
  return { store, runtime, targets, control, health, introduce };
}

export type StandIns = ReturnType<typeof recordingStandIns>;

/** Stand-ins whose container step runs `duringCreate` and then fails. */
export function failingAtContainer(duringCreate: () => Promise<void> = async () => undefined): StandIns {
  return recordingStandIns([], {
    createAgent: async () => {
      await duringCreate();
      throw new FleetError('unavailable', 'container creation failed (injected)');
    },
  });
}

export interface ProvisionOver {
  registry: Registry;
  homeDir: string;
  guard?: ClientOperationGuard;
  heartbeatIntervalMs?: number;
  /** The introduction; by default one that hands over at once. */
  prepareIntroduction?: ProvisionSecrets['prepareIntroduction'];
}

/** The provisioning service over `parts`, with Vault reachable at the client network's gateway. */
export function provisionServiceOver(parts: StandIns, options: ProvisionOver): ProvisionClientService {
  return new ProvisionClientService({
    config: loadConfig({ AGENT_FLEET_HOME: options.homeDir }),
    registry: options.registry,
    runtime: parts.runtime,
    targets: parts.targets,
    health: parts.health,
    clock: systemClock,
    logger: createSilentLogger(),
    ...(options.guard === undefined ? {} : { guard: options.guard }),
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    secrets: {
      store: parts.store,
      vaultAddressForNetwork: async (_clientId, network) => `https://${network.gateway}:8200`,
      prepareIntroduction: options.prepareIntroduction ?? (async () => async () => undefined),
    },
  });
}

export interface ReviveOver {
  registry: Registry;
  homeDir: string;
  /** The revive's own guard (another orchestrator's when it is a new one). */
  guard: ClientOperationGuard;
  heartbeatIntervalMs?: number;
}

/** The revive service over `parts`, with Vault reachable on the loopback. */
export function reviveServiceOver(parts: StandIns, options: ReviveOver): ReviveClientService {
  return new ReviveClientService({
    config: loadConfig({ AGENT_FLEET_HOME: options.homeDir }),
    registry: options.registry,
    runtime: parts.runtime,
    targets: parts.targets,
    secrets: parts.store,
    control: parts.control,
    health: parts.health,
    clock: systemClock,
    logger: createSilentLogger(),
    vaultAddressFor: async () => 'https://127.0.0.1:8200',
    introduce: parts.introduce,
    guard: options.guard,
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
  });
}

/** `registry` with the methods in `overrides` replaced; every other call goes to `registry` itself. */
export function registryWith(registry: Registry, overrides: Partial<Registry>): Registry {
  return new Proxy(registry, {
    get(target, name, receiver) {
      if (Object.hasOwn(overrides, name)) return overrides[name as keyof Registry];
      const value: unknown = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A new gmail client with no admins, onboarded from `at`, as a provisioning claims it. */
export function newClient(clientId: ClientId, at: Date): NewClient {
  return { id: clientId, provider: 'gmail', admins: [], configYaml: `client: ${clientId}\n`, onboardingStartedAt: at.toISOString() };
}

/** Another provisioning (`operationId`) claims the client at `at`; the claim must succeed. */
export async function claimedBy(registry: Registry, clientId: ClientId, operationId: string, at: Date): Promise<void> {
  const claim = await registry.claimForProvisioning(newClient(clientId, at), operationId, at, STALE_OPERATION_MS);
  assert.equal(claim.outcome, 'claimed');
}

/** A client a provisioning (`op-provision`) registered and the kill switch then killed: where a revive starts. */
export async function killedClient(registry: Registry, clientId: ClientId): Promise<void> {
  const at = new Date();
  await registry.claimForProvisioning(newClient(clientId, at), 'op-provision', at, STALE_OPERATION_MS);
  await registry.setStatus(clientId, 'killed', 'kill switch (test)', at);
}

/** Another provisioning claims the client, as one started after the take-over age would. */
export const takenOverBy = (registry: Registry, clientId: ClientId, otherOperation: string) => async (): Promise<void> => {
  await claimedBy(registry, clientId, otherOperation, new Date(Date.now() + 2 * STALE_OPERATION_MS));
};

/** The kill switch pulled on a client an operation is provisioning. */
export const killDuringProvisioning = (registry: Registry, clientId: ClientId) => async (): Promise<void> => {
  assert.ok(await registry.transition(clientId, ['provisioning'], 'killed', 'kill switch (test)', new Date()));
};

// Stand-ins for everything an erasure touches but the registry: each one does nothing and reports
// nothing to remove, so a test overrides only the parts it is about.
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ContainerRuntime } from '../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../orchestrator/src/ports/secret-store.ts';
import { ClientOperationGuard } from '../../orchestrator/src/services/client-operation-guard.ts';
import type { EraseDependencies } from '../../orchestrator/src/services/erasure/erase-client.ts';
import { MemoryKeyWrapper } from './memory-key-wrapper.ts';

/** A container engine with nothing left to stop or remove. */
export function idleContainerRuntime(): ContainerRuntime {
  return {
    volumes: { removeHelpers: async () => undefined } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
    stopAgent: async () => undefined,
    removeAgent: async () => undefined,
    removeNetwork: async () => undefined,
    removeVolume: async () => undefined,
  } as Partial<ContainerRuntime> as ContainerRuntime;
}

/** A kill of `clientId` that stops its container and reports no token revoked and the agent not told. */
export function containerOnlyKill(clientId: ClientId): EraseDependencies['kill'] {
  return { kill: async () => ({ clientId, alreadyKilled: false, revokedTokens: 0, agentNotified: false, containerStopped: true, durationMs: 1 }) };
}

/** The erasure's dependencies on `registry` but its kill and clock; `clientId`'s key is held in memory until its secrets are removed. */
export function erasureStandIns(registry: Registry, clientId: ClientId): Omit<EraseDependencies, 'kill' | 'clock'> & { keys: MemoryKeyWrapper } {
  const keys = new MemoryKeyWrapper([clientId]);
  return {
    registry,
    runtime: idleContainerRuntime(),
    targets: { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets,
    secrets: { removeClient: async (removed: ClientId) => keys.destroy(removed) } as Partial<SecretStore> as SecretStore,
    keys,
    grants: { revoke: async (_clientId, provider) => ({ provider, outcome: 'revoked', detail: 'revoked' }) },
    backups: { deleteAll: async () => 0 },
    guard: new ClientOperationGuard(),
    evidence: { deleteClientBundles: async () => 0 },
    incidents: { forgetClientRecipients: async () => 0 },
    logger: createSilentLogger(),
  };
}

/** Claims `clientId` for provisioning by operation op-1 at `at` and leaves it there, as an orchestrator that died mid-saga does. */
export async function leaveProvisioning(registry: Registry, clientId: ClientId, admin: string, at: Date, staleMs: number): Promise<void> {
  await registry.claimForProvisioning({ id: clientId, provider: 'gmail', admins: [admin], configYaml: `client: ${clientId}\n`, onboardingStartedAt: at.toISOString() }, 'op-1', at, staleMs);
}

/** Registers `clientId` as an active client (onboarded on 5 January 2026) with `admin` its one admin. */
export async function registerActiveClient(registry: Registry, clientId: ClientId, admin: string): Promise<void> {
  const at = new Date('2026-01-05T09:00:00.000Z');
  await registry.claimForProvisioning({ id: clientId, provider: 'gmail', admins: [admin], configYaml: `client: ${clientId}\n`, onboardingStartedAt: at.toISOString() }, 'op', at, 1000);
  await registry.setStatus(clientId, 'active', null, at);
}

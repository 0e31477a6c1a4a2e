import path from 'node:path';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { IncidentStore } from '../../ports/incident-store.ts';
import type { OnboardingCheckStore } from '../../ports/onboarding-probes.ts';
import type { PortalStore } from '../../ports/portal-store.ts';
import type { Registry } from '../../ports/registry.ts';
import type { TeamStore } from '../../ports/team-store.ts';
import { loadOrCreateMasterKey } from '../embedded-vault/encrypted-file-store.ts';
import { openPgliteExecutor } from '../pglite/pglite-sql-executor.ts';
import { openPostgresExecutor } from '../postgres/postgres-sql-executor.ts';
import { migrate } from './migrate.ts';
import { fileOpsLogHeadCheckpoint } from './ops-log-head-checkpoint.ts';
import { SqlIncidentStore } from './sql-incident-store.ts';
import { SqlOnboardingStore } from './sql-onboarding-store.ts';
import { SqlPortalStore } from './sql-portal-store.ts';
import { registrySealer } from './registry-sealer.ts';
import type { SqlExecutor } from './sql-executor.ts';
import { SqlRegistry, type OpsLogAnchoring } from './sql-registry.ts';
import { SqlTeamStore } from './sql-team-store.ts';

/** Where the key that seals client configurations and ops-log fields in the registry is kept: apart from the database. */
export const registryKeyDirectory = (homeDir: string): string => path.join(homeDir, 'registry-key');

/** Where the ops log's head is recorded after each append, outside the database (MAC under the registry key). */
export const opsLogHeadFile = (homeDir: string): string => path.join(homeDir, 'ops-log-head.json');

/**
 * The registry, the incident records, the portal's store and the team's store over an opened database:
 * migrated, the registry key loaded (or made), and everything they seal sealed; `sealedNow` counts the
 * rows an earlier release had written in plaintext (sealed now, their tables rewritten so that the
 * plaintext leaves the database files); `opsLogAnchoring` says whether the ops log's head checkpoint was
 * made now (from the log's current head: the first start with checkpoints) or is invalid. `logger` hears of
 * head checkpoint writes that fail (they do not fail the append whose entry is committed).
 */
export async function registryOn(
  executor: SqlExecutor,
  homeDir: string,
  logger: Logger | null = null,
): Promise<{ registry: SqlRegistry; incidentStore: SqlIncidentStore; portalStore: SqlPortalStore; teamStore: SqlTeamStore; sealedNow: SealedNow; opsLogAnchoring: OpsLogAnchoring }> {
  await migrate(executor);
  const masterKey = await loadOrCreateMasterKey(registryKeyDirectory(homeDir));
  const sealer = registrySealer(masterKey);
  const registry = new SqlRegistry(executor, sealer, { headCheckpoint: fileOpsLogHeadCheckpoint(opsLogHeadFile(homeDir), masterKey), logger });
  const incidentStore = new SqlIncidentStore(executor, sealer);
  const portalStore = new SqlPortalStore(executor, sealer);
  const teamStore = new SqlTeamStore(executor, sealer);
  const sealedNow = {
    ...(await registry.sealPlaintext()),
    incidents: await incidentStore.sealPlaintext(),
    portalRows: await portalStore.sealPlaintext(),
    teamMembers: await teamStore.sealPlaintext(),
  };
  if (sealedNow.incidents > 0) await executor.reclaim(['incidents']);
  const opsLogAnchoring = await registry.anchorOpsLogHead();
  return { registry, incidentStore, portalStore, teamStore, sealedNow, opsLogAnchoring };
}

/** How many rows an earlier release had written in plaintext were sealed at this start. */
export type SealedNow = { clients: number; opsLogEntries: number; incidents: number; portalRows: number; teamMembers: number };

/**
 * PostgreSQL when a URL is given, otherwise PGlite under the fleet's home directory; migrated, and what
 * the registry and the stores beside it seal sealed (see `registryOn`). The client portal's store, the
 * incident records, the team's identities and the onboarding checks live in the same database (closing the
 * registry closes them all).
 */
export async function openRegistry(options: {
  databaseUrl?: string | undefined;
  homeDir: string;
  /** Where failed writes of the ops log's head checkpoint are reported. */
  logger?: Logger | undefined;
}): Promise<{ registry: Registry; sealedNow: SealedNow; opsLogAnchoring: OpsLogAnchoring; portalStore: PortalStore; incidentStore: IncidentStore; teamStore: TeamStore; onboardingStore: OnboardingCheckStore }> {
  const executor = options.databaseUrl
    ? openPostgresExecutor(options.databaseUrl)
    : await openPgliteExecutor(path.join(options.homeDir, 'registry'));
  let opened: Awaited<ReturnType<typeof registryOn>>;
  try {
    opened = await registryOn(executor, options.homeDir, options.logger ?? null);
  } catch (error) {
    await executor.close();
    throw error;
  }
  return {
    ...opened,
    onboardingStore: new SqlOnboardingStore(executor),
  };
}

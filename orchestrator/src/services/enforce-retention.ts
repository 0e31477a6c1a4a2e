import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../ports/clock.ts';
import type { Registry } from '../ports/registry.ts';
import type { DeprovisionClientService } from './deprovision-client.ts';

const DAY_MS = 86_400_000;

export interface RetentionDependencies {
  registry: Registry;
  deprovision: DeprovisionClientService;
  clock: Clock;
  logger: Logger;
  /** Days a closed client's data (its volume: audit log, state) is kept before it is deleted. */
  retentionDays: number;
}

/**
 * Log retention after account closure: a deprovisioned client's volume (audit log included) and its
 * secrets are kept for the retention period, so the client can still ask for an export, then deleted
 * permanently. Each deletion is ops-logged under the actor "retention".
 */
export async function enforceRetention(deps: RetentionDependencies): Promise<string[]> {
  const cutoff = deps.clock.now().getTime() - deps.retentionDays * DAY_MS;
  const purged: string[] = [];
  for (const client of await deps.registry.listClients()) {
    if (client.status !== 'deprovisioned' || Date.parse(client.updatedAt) > cutoff) continue;
    try {
      await deps.deprovision.deprovision({
        clientId: client.id,
        purge: true,
        actor: 'retention',
        reason: `retention: closed ${client.updatedAt.slice(0, 10)}, kept ${deps.retentionDays} days`,
      });
      purged.push(client.id);
    } catch (error) {
      deps.logger.error('retention purge failed', { client: client.id, error });
    }
  }
  return purged;
}

import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { BackupInfo } from '../ports/backup-store.ts';
import type { ClientRecord } from '../ports/registry.ts';
import type { ErasureRequest } from '../services/erasure/erasure-records.ts';

export interface DataLifecycleSources {
  listClients: () => Promise<ClientRecord[]>;
  listBackups: (clientId: ClientId) => Promise<BackupInfo[]>;
  openErasureRequests: () => Promise<ErasureRequest[]>;
  /** Clients whose purge failed and is still to be finished (enforce-retention's failingPurges). */
  failingPurges: () => Promise<Array<{ clientId: string; failures: number }>>;
}

/**
 * Backups, erasure requests and purges, read at scrape time: the 30-day erasure deadline of every open
 * request (one series per request; there are few), the time of each client's newest backup, and the failed
 * attempts at each purge not finished. The alert rules
 * in deploy/prometheus/rules/data-lifecycle.yml fire before a deadline lapses and when backups stop.
 */
export function registerDataLifecycleMetrics(registry: MetricsRegistry, sources: DataLifecycleSources): void {
  new Gauge({
    name: 'fleet_erasure_request_deadline_timestamp_seconds',
    help: 'Deadline (received + 30 days, Unix seconds) of each open erasure request.',
    labelNames: ['client', 'request'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const request of await sources.openErasureRequests()) {
        this.set({ client: request.clientId, request: request.requestId }, Date.parse(request.deadline) / 1000);
      }
    },
  });
  new Gauge({
    name: 'fleet_erasure_requests_open',
    help: 'Erasure requests received and not yet carried out.',
    registers: [registry],
    async collect() {
      this.set((await sources.openErasureRequests()).length);
    },
  });
  new Gauge({
    name: 'fleet_retention_purge_failures',
    help: "Failed attempts at a client's purge since it started, for each purge not finished yet (the daily retention run tries again).",
    labelNames: ['client'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const purge of await sources.failingPurges()) this.set({ client: purge.clientId }, purge.failures);
    },
  });
  new Gauge({
    name: 'fleet_backup_last_success_timestamp_seconds',
    help: "Time (Unix seconds) of each client's newest stored backup; absent for a client without one.",
    labelNames: ['client'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const client of await sources.listClients()) {
        const newest = (await sources.listBackups(client.id)).at(-1);
        if (newest && newest.createdAt !== '') this.set({ client: client.id }, Date.parse(newest.createdAt) / 1000);
      }
    },
  });
}

import { Counter, Gauge, Histogram, type Registry as MetricsRegistry } from 'prom-client';
import { CLIENT_STATUSES } from '../domain/client-status.ts';
import type { ClientRecord } from '../ports/registry.ts';

export interface OrchestratorMetrics {
  provisionStepDuration: Histogram<'step' | 'outcome'>;
  reconcileActions: Counter<'action'>;
  reconcileFailures: Counter;
}

/** Orchestrator metrics on an injected registry; the clients are listed at scrape time. */
export function createOrchestratorMetrics(
  registry: MetricsRegistry,
  listClients: () => Promise<ClientRecord[]>,
): OrchestratorMetrics {
  new Gauge({
    name: 'fleet_clients',
    help: 'Clients in the registry by lifecycle status.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const clients = await listClients();
      for (const status of CLIENT_STATUSES) this.set({ status }, clients.filter((c) => c.status === status).length);
    },
  });
  // Per client (bounded by the fleet's size): the kill notice must not depend on scraping a stopped agent.
  new Gauge({
    name: 'fleet_client_killed',
    help: '1 while the client\'s kill switch is engaged.',
    labelNames: ['client'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const client of await listClients()) this.set({ client: client.id }, client.status === 'killed' ? 1 : 0);
    },
  });
  return {
    provisionStepDuration: new Histogram({
      name: 'fleet_provision_step_duration_seconds',
      help: 'Duration of each provisioning step.',
      labelNames: ['step', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    reconcileActions: new Counter({
      name: 'fleet_reconcile_actions_total',
      help: 'Corrective actions taken by the reconciler.',
      labelNames: ['action'],
      registers: [registry],
    }),
    reconcileFailures: new Counter({
      name: 'fleet_reconcile_failures_total',
      help: 'Reconcile passes or actions that failed.',
      registers: [registry],
    }),
  };
}

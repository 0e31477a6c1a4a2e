import { Counter, Gauge, Histogram, type Registry as MetricsRegistry } from 'prom-client';
import { CLIENT_STATUSES, type ClientStatus } from '../domain/client-status.ts';

export interface OrchestratorMetrics {
  provisionStepDuration: Histogram<'step' | 'outcome'>;
  reconcileActions: Counter<'action'>;
  reconcileFailures: Counter;
}

/** Orchestrator metrics on an injected registry; `countClients` is asked at scrape time. */
export function createOrchestratorMetrics(
  registry: MetricsRegistry,
  countClients: () => Promise<Partial<Record<ClientStatus, number>>>,
): OrchestratorMetrics {
  new Gauge({
    name: 'fleet_clients',
    help: 'Clients in the registry by lifecycle status.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await countClients();
      for (const status of CLIENT_STATUSES) this.set({ status }, counts[status] ?? 0);
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

import { Counter, Gauge, Histogram, type Registry as MetricsRegistry } from 'prom-client';
import { CLIENT_STATUSES } from '../domain/client-status.ts';
import { OPS_LOG_CHECKPOINT_STATES, type OpsLogCheckpointStatus } from '../domain/ops-log-checkpoint-status.ts';
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
  // Per client, bounded by the fleet's size: a closed (deprovisioned) client stays in the registry for
  // good, but has no agent, no kill to report and nothing to scrape, so it is left out; otherwise every
  // client the fleet ever had would stay a series forever.
  const current = async (): Promise<ClientRecord[]> =>
    (await listClients()).filter((client) => client.status !== 'deprovisioned');
  // The kill notice must not depend on scraping a stopped agent.
  new Gauge({
    name: 'fleet_client_killed',
    help: '1 while the client\'s kill switch is engaged.',
    labelNames: ['client'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const client of await current()) this.set({ client: client.id }, client.status === 'killed' ? 1 : 0);
    },
  });
  // Which clients must be scrape targets (status="active"), matched client by client by AgentTargetsMissing:
  // a count per status cannot tell one missing agent from another's stray target.
  new Gauge({
    name: 'fleet_client_status',
    help: 'Each client\'s lifecycle status in the registry (always 1; closed clients are not listed).',
    labelNames: ['client', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const client of await current()) this.set({ client: client.id, status: client.status }, 1);
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

/** One running incident clock (services/incidents/incident-clocks.ts). */
export interface IncidentClockMetric {
  incident: string;
  severity: string;
  clock: string;
  secondsLeft: number;
}

/**
 * Incident clocks, read at scrape time: seconds to each running deadline (negative once overdue), one
 * series per open incident and clock (bounded by the incidents not yet closed and reported), so alert
 * rules can page before a deadline lapses. A met clock's series disappears. The incident's own severity is
 * `incident_severity`: `severity` is the alerts' routing label.
 */
export function createIncidentMetrics(registry: MetricsRegistry, clocks: () => Promise<IncidentClockMetric[]>): void {
  new Gauge({
    name: 'fleet_incident_deadline_seconds',
    help: 'Seconds until an incident clock (response, assessment, notification, report) lapses; negative when overdue.',
    labelNames: ['incident', 'clock', 'incident_severity'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const sample of await clocks()) this.set({ incident: sample.incident, clock: sample.clock, incident_severity: sample.severity }, sample.secondsLeft);
    },
  });
}

export interface EgressMetrics {
  refused: Counter<'client'>;
  tunnels: Counter<'client'>;
  /** Allowed requests the upstream did not answer (502 unreachable, 504 timeout): not refusals. */
  upstreamFailures: Counter<'client'>;
}

/**
 * The egress proxies' counters, per client (bounded by the fleet; `unknown` for a source on no client
 * network). Never a host label: what an agent asked for is in the refusal log, not in the time series.
 */
const EGRESS_COUNTERS = ['fleet_egress_refused_total', 'fleet_egress_tunnels_total', 'fleet_egress_upstream_failures_total'] as const;

/** Drops a client's egress counters (an erasure): each scrape would otherwise write the client's label back. */
export function forgetEgressClient(registry: MetricsRegistry, clientId: string): void {
  for (const name of EGRESS_COUNTERS) (registry.getSingleMetric(name) as Counter<'client'> | undefined)?.remove({ client: clientId });
}

/** The `client` label of an egress request from a source on no client's network. */
export const EGRESS_UNKNOWN_CLIENT = 'unknown';

export function createEgressMetrics(registry: MetricsRegistry): EgressMetrics {
  const counters: EgressMetrics = {
    refused: new Counter({
      name: EGRESS_COUNTERS[0],
      help: 'Requests the egress proxy refused (host off the allow-list, IP literal, plain HTTP, foreign source, inactive client, busy).',
      labelNames: ['client'],
      registers: [registry],
    }),
    tunnels: new Counter({
      name: EGRESS_COUNTERS[1],
      help: 'Tunnels the egress proxy opened to allow-listed hosts.',
      labelNames: ['client'],
      registers: [registry],
    }),
    upstreamFailures: new Counter({
      name: EGRESS_COUNTERS[2],
      help: 'Allowed requests whose upstream could not be reached (no address, refused, dropped: 502) or did not answer in time (504).',
      labelNames: ['client'],
      registers: [registry],
    }),
  };
  // Clients' series start at 0 when their proxy starts; this one has no proxy of its own, and without a
  // 0 before it, the first refusal of a foreign source would be the series' first sample: no increase().
  counters.refused.inc({ client: EGRESS_UNKNOWN_CLIENT }, 0);
  return counters;
}

/** How long one reading of the ops log's checkpoint serves the metrics of a scrape (they collect one by one). */
const CHECKPOINT_STATUS_REUSE_MS = 1_000;

/**
 * The ops log's head checkpoint, read at scrape time (`SqlRegistry.opsLogCheckpointStatus`: the file and the
 * log's last entry): its state (one series per state, 1 for the current one), how many entries the log runs
 * past it, the writes of it that failed since the start, and whether the start made it by trust on first use.
 * Alerts: `fleet_ops_log_checkpoint_state{state=~"missing|invalid|disagrees"} == 1` (the log is no longer
 * vouched for outside the database), `fleet_ops_log_checkpoint_lag_entries > 0 for 15m` with
 * `increase(fleet_ops_log_checkpoint_failures_total[15m]) > 0`, and
 * `fleet_ops_log_checkpoint_anchored_on_first_use == 1` (confirm the re-anchoring was meant).
 */
export function createOpsLogCheckpointMetrics(registry: MetricsRegistry, status: () => Promise<OpsLogCheckpointStatus>, now: () => number = Date.now): void {
  let reading: { at: number; status: Promise<OpsLogCheckpointStatus> } | null = null;
  const current = (): Promise<OpsLogCheckpointStatus> => {
    if (reading === null || now() - reading.at > CHECKPOINT_STATUS_REUSE_MS) reading = { at: now(), status: status() };
    return reading.status;
  };
  new Gauge({
    name: 'fleet_ops_log_checkpoint_state',
    help: "The ops log's head checkpoint: ok, missing (entries but no file), invalid (unreadable or failing its MAC), disagrees (log truncated or rewritten), empty or none; 1 for the current state.",
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { state } = await current();
      for (const candidate of OPS_LOG_CHECKPOINT_STATES) this.set({ state: candidate }, candidate === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'fleet_ops_log_checkpoint_lag_entries',
    help: "Ops-log entries past the head checkpoint (every entry while it is missing).",
    registers: [registry],
    async collect() {
      this.set((await current()).lagEntries);
    },
  });
  new Counter({
    name: 'fleet_ops_log_checkpoint_failures_total',
    help: 'Head checkpoint writes that failed or were refused since the start (I/O error, MAC failure, file gone).',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await current()).writeFailures);
    },
  });
  new Gauge({
    name: 'fleet_ops_log_checkpoint_anchored_on_first_use',
    help: '1 when this start found no head checkpoint beside a log with entries and anchored the log at its head.',
    registers: [registry],
    async collect() {
      this.set((await current()).anchoredOnFirstUse ? 1 : 0);
    },
  });
}

/** The orchestrator's own sign-in surfaces: the ops API (both listeners) and the client portal. */
export type AuthSurface = 'api' | 'portal';

/** Counts one refused authentication on a surface (a missing or wrong credential, a wrong code). */
export type CountAuthRefusal = () => void;

/**
 * Refused authentications on the orchestrator's own surfaces. No client label: the portal's sign-in
 * names a client the caller chose. Both series start at 0, so that increase() sees the first refusal.
 * Alert: AuthFailuresBurstFleet.
 */
export function createAuthFailureMetrics(registry: MetricsRegistry): Record<AuthSurface, CountAuthRefusal> {
  const counter = new Counter({
    name: 'fleet_api_auth_failures_total',
    help: 'Authentications the orchestrator refused: a missing or wrong API token or team code (api), a failed portal sign-in, one-tap link or enrolment code (portal).',
    labelNames: ['surface'],
    registers: [registry],
  });
  counter.inc({ surface: 'api' }, 0);
  counter.inc({ surface: 'portal' }, 0);
  return { api: () => counter.inc({ surface: 'api' }), portal: () => counter.inc({ surface: 'portal' }) };
}

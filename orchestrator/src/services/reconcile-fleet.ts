import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../config.ts';
import type { AgentHealthProbe } from '../ports/agent-health.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry, ClientRecord } from '../ports/registry.ts';
import type { ScrapeTargets } from '../ports/scrape-targets.ts';
import type { OrchestratorMetrics } from '../observability/metrics.ts';
import { agentWorkloadSpec } from './agent-workload.ts';
import { waitForAgentHealth } from './wait-for-agent-health.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';

export type ReconcileActionKind =
  | 'restarted'
  | 'recreated'
  | 'target-updated'
  | 'target-removed'
  | 'stopped-killed'
  | 'thawed'
  | 'orphan-removed'
  | 'failed';

export interface ReconcileAction {
  kind: ReconcileActionKind;
  clientId: string;
  detail: string;
}

export interface ReconcileReport {
  actions: ReconcileAction[];
  /** Differences noticed but deliberately left alone (orphan volumes hold data). */
  drift: string[];
}

/** Runs after an agent (re)starts: a fresh secret introduction, contributed by the secrets module. */
export type AfterAgentStart = (clientId: ClientId, controlAddress: string) => Promise<void>;

export interface ReconcileDependencies {
  config: Pick<OrchestratorConfig, 'agent' | 'version'>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  health: AgentHealthProbe;
  logger: Logger;
  metrics?: OrchestratorMetrics;
  /** A restarted agent gets a fresh secret introduction. */
  afterAgentStart: AfterAgentStart;
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
  /** An operation on a client's volume: its resources are left alone meanwhile (a closed client's export reopens its network). */
  operations?: Pick<ClientOperationGuard, 'runningOn'>;
}

/**
 * The watchdog: makes the runtime match the registry. Crashed agents of active clients are restarted (or
 * recreated), killed clients' agents are kept stopped, managed containers and networks of clients that no
 * longer exist are removed, and scrape targets follow the agents' current addresses.
 */
export class ReconcileFleetService {
  private readonly deps: ReconcileDependencies;
  private running: Promise<ReconcileReport> | null = null;

  constructor(deps: ReconcileDependencies) {
    this.deps = deps;
  }

  /** One pass; concurrent callers share the pass in progress. */
  reconcile(): Promise<ReconcileReport> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { actions: [], drift: [] };
    const clients = await this.deps.registry.listClients();
    const byId = new Map(clients.map((client) => [client.id as string, client]));
    const targets = new Map((await this.deps.targets.list()).map((target) => [target.clientId as string, target.address]));

    for (const client of clients) {
      try {
        await this.reconcileClient(client, targets.get(client.id), report);
      } catch (error) {
        report.actions.push({ kind: 'failed', clientId: client.id, detail: (error as Error).message });
      }
    }
    for (const [clientId] of targets) {
      const client = byId.get(clientId);
      if (!client || (client.status !== 'active' && client.status !== 'provisioning')) {
        await this.deps.targets.unregister(clientId as ClientId);
        report.actions.push({ kind: 'target-removed', clientId, detail: 'no active client for this target' });
      }
    }
    await this.removeOrphans(byId, report);

    for (const action of report.actions) {
      this.deps.metrics?.reconcileActions.inc({ action: action.kind });
      if (action.kind === 'failed') this.deps.metrics?.reconcileFailures.inc();
      const log = action.kind === 'failed' ? this.deps.logger.error : this.deps.logger.info;
      log.call(this.deps.logger, 'reconcile action', { ...action });
    }
    return report;
  }

  private async reconcileClient(client: ClientRecord, currentTarget: string | undefined, report: ReconcileReport): Promise<void> {
    const { runtime, health, config } = this.deps;
    const state = await runtime.inspectAgent(client.id);
    if (client.status === 'killed') {
      if (state?.running) {
        await runtime.stopAgent(client.id, 2);
        report.actions.push({ kind: 'stopped-killed', clientId: client.id, detail: 'kill switch engaged; agent was running' });
      }
      return;
    }
    if (client.status !== 'active') return;

    let current = state;
    if (!current) {
      await runtime.createAgent(
        agentWorkloadSpec(config, client.id, client.configYaml, { VAULT_ADDR: await this.deps.vaultAddressFor(client.id) }),
      );
      await runtime.startAgent(client.id);
      const healthy = await waitForAgentHealth(runtime, health, client.id, config.agent.healthTimeoutMs);
      current = healthy;
      report.actions.push({ kind: 'recreated', clientId: client.id, detail: 'agent container was missing' });
      await this.deps.afterAgentStart(client.id, healthy.endpoints.control);
    } else if (current.status === 'paused' && this.deps.operations !== undefined && this.deps.operations.runningOn(client.id) === undefined) {
      // Paused by a backup whose thaw failed (or by hand): no operation of this orchestrator holds it, so
      // nothing will ever unpause it. An operation running on it (a backup's freeze) is left alone.
      await runtime.volumes.thawAgent(client.id);
      report.actions.push({ kind: 'thawed', clientId: client.id, detail: 'agent was paused with no operation running on it' });
    } else if (!current.running) {
      const exitCode = current.exitCode;
      await runtime.startAgent(client.id);
      const healthy = await waitForAgentHealth(runtime, health, client.id, config.agent.healthTimeoutMs);
      current = healthy;
      report.actions.push({ kind: 'restarted', clientId: client.id, detail: `agent had stopped (exit code ${exitCode ?? 'unknown'})` });
      await this.deps.afterAgentStart(client.id, healthy.endpoints.control);
    }
    const address = current.endpoints?.metrics;
    if (address && address !== currentTarget) {
      await this.deps.targets.register({ clientId: client.id, address });
      report.actions.push({ kind: 'target-updated', clientId: client.id, detail: `scrape target now ${address}` });
    }
  }

  private async removeOrphans(clients: Map<string, ClientRecord>, report: ReconcileReport): Promise<void> {
    for (const resource of await this.deps.runtime.listManaged()) {
      const client = clients.get(resource.clientId);
      const gone = !client || client.status === 'deprovisioned';
      if (!gone) continue;
      let clientId: ClientId;
      try {
        clientId = parseClientId(resource.clientId);
      } catch {
        report.drift.push(`${resource.kind} ${resource.name} carries an invalid client label`);
        continue;
      }
      if (this.deps.operations?.runningOn(clientId) !== undefined) continue;
      if (resource.kind === 'container') {
        await this.deps.runtime.removeAgent(clientId);
        report.actions.push({ kind: 'orphan-removed', clientId, detail: `container ${resource.name}` });
      } else if (resource.kind === 'network') {
        await this.deps.runtime.removeNetwork(clientId);
        report.actions.push({ kind: 'orphan-removed', clientId, detail: `network ${resource.name}` });
      } else if (!client) {
        report.drift.push(`volume ${resource.name} has no client; kept (it holds data): \`fleet deprovision ${clientId} --purge\` removes it`);
      }
    }
  }
}

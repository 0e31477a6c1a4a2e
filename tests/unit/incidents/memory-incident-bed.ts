// The incident process and support access over memory: a registry holding clients (their admins in their
// config) and the ops log, an incident store, a settable clock. Fast, for the unit tests of how grants and
// incidents hang together; the SQL stores have their own integration tests.
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { hashOpsLogEntry } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { IncidentListFilter, IncidentRecord, IncidentStore, NewIncident } from '../../../orchestrator/src/ports/incident-store.ts';
import type { GuardedAppend, NewOpsLogEntry, OpsLogAppendGuard, OpsLogEntry, OpsLogListFilter, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { IncidentService } from '../../../orchestrator/src/services/incidents/incident-service.ts';
import { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { nothingDoneYet } from './incident-fixture.ts';

export const START = new Date('2026-12-02T10:00:00.000Z');

export class MemoryIncidentStore implements IncidentStore {
  readonly records = new Map<string, IncidentRecord>();

  create(incident: NewIncident): Promise<IncidentRecord> {
    const record: IncidentRecord = {
      ...incident,
      id: `INC-${this.records.size + 1}`,
      ...nothingDoneYet(),
      updatedAt: incident.openedAt,
    };
    this.records.set(record.id, record);
    return Promise.resolve(record);
  }

  get(id: string): Promise<IncidentRecord | null> {
    return Promise.resolve(this.records.get(id) ?? null);
  }

  list(filter: IncidentListFilter = {}): Promise<IncidentRecord[]> {
    const closedAndReported = (record: IncidentRecord) => record.status === 'closed' && record.reportIssuedAt !== null;
    const kept = [...this.records.values()].filter(
      (record) => (filter.openOnly !== true || record.status !== 'closed') && (filter.clocksMayRun !== true || !closedAndReported(record)),
    );
    this.largestList = Math.max(this.largestList, kept.length);
    return Promise.resolve(kept.reverse());
  }

  /** The most incidents one list returned. */
  largestList = 0;

  update(id: string, change: (current: IncidentRecord) => IncidentRecord): Promise<IncidentRecord> {
    const current = this.records.get(id);
    if (current === undefined) return Promise.reject(new FleetError('not_found', `no incident ${id}`));
    try {
      const next = change(current);
      this.records.set(id, next);
      return Promise.resolve(next);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  anyOpened(): Promise<boolean> {
    return Promise.resolve(this.records.size > 0);
  }
}

/** The part of the registry support access and incidents use: clients with admins, and the ops log. */
export class MemoryOpsRegistry {
  readonly entries: OpsLogEntry[] = [];
  readonly clients = new Map<string, { id: string; provider: 'gmail'; configYaml: string }>();

  addClient(id: string, admin: string): void {
    this.clients.set(id, { id, provider: 'gmail', configYaml: `client: ${id}\nadmins:\n  - ${admin}\n` });
  }

  getClient(id: string): Promise<unknown> {
    return Promise.resolve(this.clients.get(id) ?? null);
  }

  appendOpsLog(entry: NewOpsLogEntry): Promise<OpsLogEntry> {
    const previous = this.entries.at(-1);
    const unhashed = { ...entry, seq: this.entries.length + 1, at: entry.at ?? new Date().toISOString(), prevHash: previous?.hash ?? GENESIS_HASH };
    const full: OpsLogEntry = { ...unhashed, hash: hashOpsLogEntry(unhashed) };
    this.entries.push(full);
    return Promise.resolve(full);
  }

  /** As the SQL registry: the reads, the verdict and the append in one step (here, with no await between them). */
  appendOpsLogIf<Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>): Promise<GuardedAppend<Refusal>> {
    const refusal = guard.refusal(guard.reads.map((filter) => this.matching(filter)));
    if (refusal !== null) return Promise.resolve({ outcome: 'refused', refusal });
    return this.appendOpsLog(entry).then((appended) => ({ outcome: 'appended', entry: appended }));
  }

  /** The most entries one read of the log returned (a whole list, or a page). */
  largestRead = 0;

  private matching(filter: OpsLogListFilter): OpsLogEntry[] {
    return this.entries.filter(
      (entry) =>
        (filter.clientId === undefined || entry.clientId === filter.clientId) &&
        (filter.actions === undefined || filter.actions.includes(entry.action)) &&
        (filter.since === undefined || Date.parse(entry.at) >= filter.since.getTime()),
    );
  }

  listOpsLog(filter: OpsLogListFilter = {}): Promise<OpsLogEntry[]> {
    const entries = this.matching(filter);
    this.largestRead = Math.max(this.largestRead, entries.length);
    return Promise.resolve(entries);
  }

  async *readOpsLogPages(options: { pageSize: number; filter?: { clientId?: string; actions?: readonly string[] } }): AsyncGenerator<OpsLogEntry[]> {
    const entries = this.matching(options.filter ?? {});
    for (let start = 0; start < entries.length; start += options.pageSize) {
      const page = entries.slice(start, start + options.pageSize);
      this.largestRead = Math.max(this.largestRead, page.length);
      await Promise.resolve();
      yield page;
    }
  }
}

export interface IncidentBed {
  registry: MemoryOpsRegistry;
  store: MemoryIncidentStore;
  support: SupportAccessService;
  incidents: IncidentService;
  clock: { now(): Date; advanceHours(hours: number): void };
  /** A grant requested by `member` for the incident and approved by the client's admin. */
  activeGrant(clientId: string, member: string, incident: string): Promise<string>;
  /** Revocations the incident service asked for; `failRevocations` makes them throw. */
  failRevocations: boolean;
}

/** Clients acme and beta (admins boss@acme.example, boss@beta.example), wired as orchestrator.ts wires them. */
export function incidentBed(): IncidentBed {
  const registry = new MemoryOpsRegistry();
  registry.addClient('acme', 'boss@acme.example');
  registry.addClient('beta', 'boss@beta.example');
  const store = new MemoryIncidentStore();
  let now = START;
  const clock = { now: () => now, advanceHours: (hours: number) => void (now = new Date(now.getTime() + hours * 3_600_000)) };
  const asRegistry = registry as unknown as Registry;
  const bed: IncidentBed = {
    registry,
    store,
    clock,
    failRevocations: false,
    support: new SupportAccessService({ registry: asRegistry, clock, linkIncident: (incident, clientId) => bed.incidents.checkSupportLink(incident, clientId) }),
    incidents: new IncidentService({
      store,
      registry: asRegistry,
      clock,
      logger: createSilentLogger(),
      clocks: { timeZone: 'UTC' },
      grantsOf: (clientId) => bed.support.list(clientId),
      revokeGrant: (input) => (bed.failRevocations ? Promise.reject(new Error('the registry is unreachable')) : bed.support.revoke(input)),
    }),
    async activeGrant(clientId, member, incident) {
      const grant = await bed.support.request({ clientId, member, incident, reason: 'read the audit log', actor: member });
      await bed.support.approve({ clientId, grantId: grant.id, by: `boss@${clientId}.example`, actor: `client-admin:boss@${clientId}.example` });
      return grant.id;
    },
  };
  return bed;
}

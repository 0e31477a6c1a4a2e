// An in-memory stand-in for the registry's ops log as the notice services use it: appended entries are
// listed back by client and action, as the registry does, and outlive any one service instance. A guarded
// append reads, decides and appends with no await between them, as the SQL registry does under its lock.
import type { ClientRecord, GuardedAppend, NewOpsLogEntry, OpsLogAppendGuard, OpsLogEntry, OpsLogListFilter } from '../../../orchestrator/src/ports/registry.ts';

export interface MemoryOpsLog {
  entries: OpsLogEntry[];
  listClients(): Promise<ClientRecord[]>;
  appendOpsLog(entry: NewOpsLogEntry): Promise<OpsLogEntry>;
  appendOpsLogIf<Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>): Promise<GuardedAppend<Refusal>>;
  listOpsLog(filter?: OpsLogListFilter): Promise<OpsLogEntry[]>;
}

export function memoryOpsLog(now: () => Date = () => new Date()): MemoryOpsLog {
  const entries: OpsLogEntry[] = [];
  const matching = (filter: OpsLogListFilter): OpsLogEntry[] =>
    entries.filter(
      (entry) =>
        (filter.clientId === undefined || entry.clientId === filter.clientId) &&
        (filter.actions === undefined || filter.actions.includes(entry.action)) &&
        (filter.since === undefined || Date.parse(entry.at) >= filter.since.getTime()),
    );
  const append = (entry: NewOpsLogEntry): OpsLogEntry => {
    const stored: OpsLogEntry = { ...entry, seq: entries.length + 1, at: entry.at ?? now().toISOString(), prevHash: '', hash: '' };
    entries.push(stored);
    return stored;
  };
  return {
    entries,
    listClients: async () => [],
    appendOpsLog: async (entry) => append(entry),
    appendOpsLogIf: async <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>): Promise<GuardedAppend<Refusal>> => {
      const refusal = guard.refusal(guard.reads.map(matching));
      return refusal === null ? { outcome: 'appended', entry: append(entry) } : { outcome: 'refused', refusal };
    },
    listOpsLog: async (filter = {}) => matching(filter),
  };
}

// An in-memory stand-in for the registry's ops log as the notice services use it: appended entries are
// listed back by client and action, as the registry does, and outlive any one service instance.
import type { ClientRecord, NewOpsLogEntry, OpsLogEntry, OpsLogListFilter } from '../../../orchestrator/src/ports/registry.ts';

export interface MemoryOpsLog {
  entries: OpsLogEntry[];
  listClients(): Promise<ClientRecord[]>;
  appendOpsLog(entry: NewOpsLogEntry): Promise<OpsLogEntry>;
  listOpsLog(filter?: OpsLogListFilter): Promise<OpsLogEntry[]>;
}

export function memoryOpsLog(now: () => Date = () => new Date()): MemoryOpsLog {
  const entries: OpsLogEntry[] = [];
  return {
    entries,
    listClients: async () => [],
    appendOpsLog: async (entry) => {
      const stored: OpsLogEntry = { ...entry, seq: entries.length + 1, at: entry.at ?? now().toISOString(), prevHash: '', hash: '' };
      entries.push(stored);
      return stored;
    },
    listOpsLog: async (filter = {}) =>
      entries.filter(
        (entry) =>
          (filter.clientId === undefined || entry.clientId === filter.clientId) &&
          (filter.actions === undefined || filter.actions.includes(entry.action)) &&
          (filter.since === undefined || Date.parse(entry.at) >= filter.since.getTime()),
      ),
  };
}

// An agent's audit log and state store, real and encrypted, in a temporary directory: for tests of what
// the agent records with everything real but the mailbox and the model.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { AuditLog } from '../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../agent-image/src/services/audit-log/key-ring.ts';
import { AgentStateStore } from '../../agent-image/src/services/runtime/agent-state-store.ts';

export interface AgentStores {
  directory: string;
  keys: KeyRing;
  audit: AuditLog;
  state: AgentStateStore;
}

export interface AgentStoreMaker {
  /** Fresh stores under a new directory, read against `clock`. */
  open(clock: () => Date): Promise<AgentStores>;
  /** Has `store` (one a test opened again itself) closed with the others. */
  closeAfterTests(store: { close(): Promise<void> }): void;
}

/** A maker of stores under directories named after `prefix`; every store is closed, and every directory removed, after the calling file's tests. */
export function agentStores(prefix: string): AgentStoreMaker {
  const directories: string[] = [];
  const opened: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const store of opened) await store.close();
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });
  const open = async (clock: () => Date): Promise<AgentStores> => {
    const directory = await mkdtemp(join(tmpdir(), prefix));
    directories.push(directory);
    const keys = KeyRing.single(randomBytes(32));
    const audit = await AuditLog.open({ directory: join(directory, 'audit'), keys, now: clock });
    const state = await AgentStateStore.open({ directory: join(directory, 'state'), keys, now: clock });
    opened.push(audit, state);
    return { directory, keys, audit, state };
  };
  return { open, closeAfterTests: (store) => opened.push(store) };
}

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { Logger } from '@agent-fleet/kernel/logger';
import { openPgliteExecutor } from '../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { opsLogHeadFile, registryOn } from '../../orchestrator/src/adapters/sql/open-registry.ts';
import type { SqlExecutor } from '../../orchestrator/src/adapters/sql/sql-executor.ts';

/** A logger that keeps what it is told, by level. */
export function recordingLogger(): Logger & { lines: { level: string; message: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields });
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** A PGlite registry in a home of its own, shared by one test file's tests (open before them, removed after). */
export interface OpsLogBed {
  readonly homeDir: string;
  readonly executor: SqlExecutor;
  /** Empties the log and its head checkpoint, so a test starts from an empty log. */
  emptyLog(): Promise<void>;
}

/** Registers the file's before and after hooks; the bed's fields are set once `before` ran. */
export function opsLogBed(prefix: string): OpsLogBed {
  let homeDir: string | undefined;
  let executor: SqlExecutor | undefined;
  const opened = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the ops-log bed is used before its `before` hook ran');
    return value;
  };
  before(async () => {
    homeDir = await mkdtemp(path.join(os.tmpdir(), prefix));
    executor = await openPgliteExecutor(path.join(homeDir, 'registry'));
    await registryOn(executor, homeDir);
  });
  after(async () => {
    await executor?.close();
    if (homeDir !== undefined) await rm(homeDir, { recursive: true, force: true });
  });
  return {
    get homeDir() {
      return opened(homeDir);
    },
    get executor() {
      return opened(executor);
    },
    async emptyLog() {
      await opened(executor).query('TRUNCATE ops_log');
      await rm(opsLogHeadFile(opened(homeDir)), { recursive: true, force: true });
    },
  };
}

import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Server } from 'node:http';
import { createLogger } from '@agent-fleet/kernel/logger';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { holdHome, HOME_HELD_EXIT_CODE } from './adapters/process/home-lock.ts';
import { EXIT_CODES } from './cli/exit-codes.ts';
import { terminalSafe } from './cli/terminal-text.ts';
import { loadConfig } from './config.ts';
import { createSocketApp, createTcpApp } from './http/create-apps.ts';
import { listenTcp, listenUnixSocket } from './http/listen.ts';
import { createOrchestrator } from './orchestrator.ts';
import { removeLeftoverWork } from './services/leftover-work.ts';
import { startSchedules } from './services/schedules.ts';

// Composition root of the orchestrator service: build, start, stop on SIGTERM.
const config = configOrExit();
const logger = createLogger({ service: 'orchestrator', level: config.logLevel });
await mkdir(config.homeDir, { recursive: true, mode: 0o700 }).catch(exitOnStartFailure);
const homeLock = await holdHome(config.homeDir).catch((error: unknown) =>
  exitOnStartFailure(error, isFleetError(error) && error.code === 'conflict' ? HOME_HELD_EXIT_CODE : undefined),
);
const leftovers = await removeLeftoverWork(config.homeDir).catch(exitOnStartFailure);
if (leftovers.length > 0) logger.warn('removed work files a stopped service left', { leftovers });
const orchestrator = await createOrchestrator(config, logger, { portal: true }).catch(exitOnStartFailure);
const servers = await listenAll().catch(async (error: unknown) => {
  // The registry is closed cleanly before the process ends, as at a stop.
  await orchestrator.close().catch((closeError: unknown) => logger.error('closing after a failed start failed', { error: closeError }));
  return exitOnStartFailure(error);
});
const pidFile = path.join(config.homeDir, 'orchestrator.pid');
await writeFile(pidFile, `${process.pid}\n`, { mode: 0o600 });
logger.info('orchestrator started', { runtime: orchestrator.runtime.kind, socket: config.api.socketPath, api: `${config.api.host}:${config.api.port}`, portal: orchestrator.portal?.handle.url, home: config.homeDir });

const stopSchedules = startSchedules(orchestrator, logger);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('orchestrator stopping', { signal });
  stopSchedules();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await orchestrator.close();
  await rm(pidFile, { force: true });
  await homeLock.release();
  process.exit(0);
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));

async function listenAll(): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    servers.push(await listenUnixSocket(createSocketApp(orchestrator, logger), config.api.socketPath));
    servers.push(await listenTcp(createTcpApp(orchestrator, orchestrator.metrics, config.api.adminTokenSha256, logger), config.api.host, config.api.port));
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  return servers;
}

/**
 * Ends a start that failed after the settings were read: one plain line on stderr and the status of the
 * failure's code, and the failure in the structured log. A refusal (FleetError) or a system call's failure
 * (a port in use, a file not allowed) is the operator's to fix and logged as it is; anything else is a bug,
 * logged with its stack.
 */
function exitOnStartFailure(error: unknown, status?: number): never {
  const operational = isFleetError(error) || isSystemError(error);
  const message = error instanceof Error ? error.message : String(error);
  logger.error('the orchestrator service will not start', {
    home: config.homeDir,
    error,
    ...(operational || !(error instanceof Error) ? {} : { stack: error.stack }),
  });
  process.stderr.write(`orchestrator: the service will not start: ${terminalSafe(message)}\n`);
  process.exit(status ?? (isFleetError(error) ? EXIT_CODES[error.code] : isSystemError(error) ? EXIT_CODES.unavailable : EXIT_CODES.internal));
}

/** A failed system call (EADDRINUSE, EACCES, ENOSPC): Node's errors carry the call and its errno code. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  return error instanceof Error && typeof code === 'string' && typeof syscall === 'string';
}

/**
 * The settings, or the process ends before anything starts: a refused configuration is the operator's to
 * fix, so it is the message alone on stderr (no stack trace) with the usage status the CLI gives it.
 */
function configOrExit(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig();
  } catch (error) {
    process.stderr.write(`orchestrator: ${terminalSafe((error as Error).message)}\n`);
    process.exit(isFleetError(error) ? EXIT_CODES[error.code] : EXIT_CODES.internal);
  }
}

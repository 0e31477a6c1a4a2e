// The daily backup job runs under croner, which drops the promise of a triggered job: a run that failed as
// a whole (the registry unreachable when the clients are listed) must be logged, never rejected, or the
// unhandled rejection stops the orchestrator (kill switch and approvals with it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { runBackupJob } from '../../../orchestrator/src/services/backup/backup-schedule.ts';
import type { ScheduledBackupReport } from '../../../orchestrator/src/services/backup/client-backups.ts';

function recordingLogger(): { logger: Logger; lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const logger: Logger = {
    debug: (message) => void lines.push({ level: 'debug', message }),
    info: (message) => void lines.push({ level: 'info', message }),
    warn: (message) => void lines.push({ level: 'warn', message }),
    error: (message) => void lines.push({ level: 'error', message }),
    child: () => logger,
  };
  return { logger, lines };
}

void describe('the daily backup job', () => {
  test('a run that fails as a whole is logged as an error and does not reject', async () => {
    const { logger, lines } = recordingLogger();
    const unreachable = { runScheduled: () => Promise.reject(new FleetError('unavailable', 'registry unreachable', { retryable: true })) };
    await runBackupJob(unreachable, logger);
    assert.deepEqual(lines.map((line) => line.level), ['error']);
  });

  test('a run with failed clients is logged once, as an error', async () => {
    const { logger, lines } = recordingLogger();
    const report: ScheduledBackupReport = { backedUp: ['acme'], skipped: [], pruned: 1, failed: [{ clientId: 'abcd', error: 'busy' }], stillPaused: [] };
    await runBackupJob({ runScheduled: () => Promise.resolve(report) }, logger);
    assert.deepEqual(lines, [{ level: 'error', message: 'scheduled backups done' }]);
  });

  test('a run that left an agent paused is logged as an error', async () => {
    const { logger, lines } = recordingLogger();
    const report: ScheduledBackupReport = { backedUp: ['acme'], skipped: [], pruned: 0, failed: [], stillPaused: ['acme'] };
    await runBackupJob({ runScheduled: () => Promise.resolve(report) }, logger);
    assert.deepEqual(lines, [{ level: 'error', message: 'scheduled backups done' }]);
  });
});

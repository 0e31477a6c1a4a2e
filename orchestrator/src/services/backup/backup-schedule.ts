import { Cron } from 'croner';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ClientBackups } from './client-backups.ts';

/** Daily at 03:15 UTC, after the retention purge (02:30): quiet hours for most clients. */
export const DEFAULT_BACKUP_SCHEDULE = '15 3 * * *';

/**
 * One run of the daily job. It never rejects: croner drops the promise of a triggered job, so a failure
 * that escaped (the registry unreachable when the clients are listed) would be an unhandled rejection and
 * stop the whole orchestrator, kill switch included. It is logged once here and the next day's run tries again.
 */
export async function runBackupJob(backups: Pick<ClientBackups, 'runScheduled'>, logger: Logger): Promise<void> {
  try {
    const report = await backups.runScheduled('scheduler');
    const log = report.failed.length > 0 || report.stillPaused.length > 0 ? logger.error : logger.info;
    log.call(logger, 'scheduled backups done', { clients: report.backedUp.length, skipped: report.skipped.length, pruned: report.pruned, failed: report.failed.length, stillPaused: report.stillPaused });
  } catch (error) {
    logger.error('scheduled backups could not run', { error });
  }
}

/**
 * The daily backup job: every active or killed client is backed up, then its backups are pruned to the
 * retention policy (7 daily, 4 weekly). Returns the stop function (schedules.ts collects them).
 */
export function startBackupSchedule(backups: ClientBackups, logger: Logger, pattern = DEFAULT_BACKUP_SCHEDULE): () => void {
  const job = new Cron(pattern, { timezone: 'UTC', protect: true }, () => runBackupJob(backups, logger));
  return () => job.stop();
}

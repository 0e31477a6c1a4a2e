import { Cron } from 'croner';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { ClientBackups } from './client-backups.ts';

/** Daily at 03:15 UTC, after the retention purge (02:30): quiet hours for most clients. */
export const DEFAULT_BACKUP_SCHEDULE = '15 3 * * *';

/**
 * The daily backup job: every active or killed client is backed up, then its backups are pruned to the
 * retention policy (7 daily, 4 weekly). Returns the stop function (schedules.ts collects them).
 */
export function startBackupSchedule(backups: ClientBackups, logger: Logger, pattern = DEFAULT_BACKUP_SCHEDULE): () => void {
  const job = new Cron(pattern, { timezone: 'UTC', protect: true }, async () => {
    const report = await backups.runScheduled('scheduler');
    const log = report.failed.length > 0 ? logger.error : logger.info;
    log.call(logger, 'scheduled backups done', { clients: report.backedUp.length, pruned: report.pruned, failed: report.failed.length });
  });
  return () => job.stop();
}

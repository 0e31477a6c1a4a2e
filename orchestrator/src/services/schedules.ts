import { Cron } from 'croner';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Orchestrator } from '../orchestrator.ts';
import { startBackupSchedule } from './backup/backup-schedule.ts';
import { checkpointSettings } from './settings/settings-checkpoint.ts';

/**
 * The service's background work: reconcile, audit checkpoints and approval notices, retention, daily
 * encrypted backups, monthly credential rotation, the outside check of the alerting pipeline.
 */
export function startSchedules(orchestrator: Orchestrator, logger: Logger): () => void {
  const { config } = orchestrator;
  const timers: NodeJS.Timeout[] = [];
  const jobs: Cron[] = [];

  if (config.reconcileIntervalMs > 0) {
    timers.push(
      setInterval(() => {
        orchestrator.reconcile.reconcile().catch((error: unknown) => logger.error('reconcile pass failed', { error }));
      }, config.reconcileIntervalMs),
    );
  }
  if (config.auditCheckpointIntervalMs > 0) {
    timers.push(
      setInterval(() => {
        void checkpointAll(orchestrator, logger);
      }, config.auditCheckpointIntervalMs),
    );
  }
  // Daily: closed clients' data past the retention period is deleted for good.
  jobs.push(
    new Cron('30 2 * * *', { timezone: 'UTC', protect: true }, async () => {
      // The run logs its own counts (purged, failed, busy, waiting).
      await orchestrator.enforceRetention();
    }),
  );
  if (config.rotationSchedule) {
    jobs.push(
      new Cron(config.rotationSchedule, { timezone: 'UTC', protect: true }, async () => {
        const results = await orchestrator.rotate.rotateAll('scheduler', 'scheduled monthly rotation');
        logger.info('scheduled rotation done', { clients: results.length, failed: results.filter((r) => 'error' in r).length });
      }),
    );
  }
  const stopBackups = startBackupSchedule(orchestrator.dataLifecycle.backups, logger);
  // Who watches the watchers: Prometheus, Alertmanager and the route between them, checked every minute.
  const stopMonitoringWatch = orchestrator.doctor.watchMonitoring();
  return () => {
    for (const timer of timers) clearInterval(timer);
    for (const job of jobs) job.stop();
    stopBackups();
    stopMonitoringWatch();
  };
}

async function checkpointAll(orchestrator: Orchestrator, logger: Logger): Promise<void> {
  for (const client of await orchestrator.registry.listClients()) {
    if (client.status !== 'active') continue;
    try {
      await orchestrator.agents.checkpoint(client.id);
    } catch (error) {
      logger.warn('audit checkpoint failed', { client: client.id, error });
    }
    await checkpointSettings({ registry: orchestrator.registry, settings: orchestrator.settings, logger }, client.id).catch((error: unknown) =>
      logger.warn('settings checkpoint failed', { client: client.id, error }),
    );
    // New approvals: their one-tap links, mailed to the client's admins through the client's mailbox.
    await orchestrator.portal?.notices
      .announceNew(client.id)
      .catch((error: unknown) => logger.warn('approval notices failed', { client: client.id, error }));
  }
}

import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { formatMonitoring, formatServiceState } from '../format/service.ts';

/** service start, service status (with whether alerts reach Alertmanager): the orchestrator service that owns the registry, Docker and secrets. */
export function registerServiceCommands(program: Command, context: CliContext): void {
  const service = program
    .command('service')
    .description('the orchestrator service that owns the registry, Docker and secrets');
  service.command('start').action(async () => {
    await context.api();
    context.print({ running: true }, () => formatServiceState(true, context.config().api.socketPath));
  });
  service.command('status').action(async () => {
    const running = await context.serviceRunning();
    if (!running) {
      context.print({ running }, () => formatServiceState(running));
      context.failWith('unavailable');
      return;
    }
    const monitoring = await (await context.teamApi()).monitoring();
    context.print({ running, monitoring }, () => `${formatServiceState(running)}\n${formatMonitoring(monitoring)}`);
  });
}

import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { formatOpsLog, formatOpsLogVerification } from '../format/ops-log.ts';

/** ops-log show, ops-log verify: the append-only, hash-chained log of admin actions. */
export function registerOpsLogCommands(program: Command, context: CliContext): void {
  const opsLog = program.command('ops-log').description('the append-only, hash-chained log of admin actions');
  opsLog
    .command('show')
    .option('--client <id>', 'only this client')
    .action(async (options: { client?: string }) => {
      const entries = await (await context.api()).opsLog(options.client);
      context.print(entries, () => formatOpsLog(entries));
    });
  opsLog.command('verify').action(async () => {
    const result = await (await context.api()).verifyOpsLog();
    context.print(result, () => formatOpsLogVerification(result));
    if (!result.valid) context.failWith('integrity');
  });
}

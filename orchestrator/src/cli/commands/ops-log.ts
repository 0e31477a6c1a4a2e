import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatOpsLog, formatOpsLogVerification } from '../format/ops-log.ts';

/** ops-log show, ops-log verify: the append-only, hash-chained log of admin actions. */
export function registerOpsLogCommands(program: Command, context: CliContext): void {
  const opsLog = program.command('ops-log').description('the append-only, hash-chained log of admin actions');
  opsLog
    .command('show')
    .option('--client <id>', 'only this client')
    .action(async (options: { client?: string }) => {
      // `--client ""` (an unset shell variable) is refused, not read as "every client".
      const client = options.client === undefined ? undefined : parseClientId(options.client);
      const entries = await (await context.api()).opsLog(client);
      context.print(entries, () => formatOpsLog(entries));
    });
  opsLog.command('verify').action(async () => {
    const result = await (await context.api()).verifyOpsLog();
    context.print(result, () => formatOpsLogVerification(result));
    if (!result.valid) context.failWith('integrity');
  });
}

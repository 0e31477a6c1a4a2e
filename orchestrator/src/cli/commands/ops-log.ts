import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatOpsLog, formatOpsLogVerification } from '../format/ops-log.ts';
import { isoTimeOption } from '../options.ts';

/** ops-log show, ops-log verify: the append-only, hash-chained log of admin actions. */
export function registerOpsLogCommands(program: Command, context: CliContext): void {
  const opsLog = program.command('ops-log').description('the append-only, hash-chained log of admin actions');
  opsLog
    .command('show')
    .option('--client <id>', 'only this client')
    .option('--since <iso>', 'only entries at or after this time (ISO 8601)')
    .option('--until <iso>', 'only entries before this time (ISO 8601)')
    .action(async (options: { client?: string; since?: string; until?: string }) => {
      // `--client ""` (an unset shell variable) is refused, not read as "every client"; so are empty times.
      const filter = {
        client: options.client === undefined ? undefined : parseClientId(options.client),
        since: options.since === undefined ? undefined : isoTimeOption('--since', options.since),
        until: options.until === undefined ? undefined : isoTimeOption('--until', options.until),
      };
      const entries = await (await context.api()).opsLog(filter);
      context.print(entries, () => formatOpsLog(entries));
    });
  opsLog.command('verify').action(async () => {
    const result = await (await context.api()).verifyOpsLog();
    context.print(result, () => formatOpsLogVerification(result));
    if (!result.valid) context.failWith('integrity');
  });
}

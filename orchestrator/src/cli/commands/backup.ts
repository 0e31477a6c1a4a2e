import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CliContext } from '../cli-context.ts';
import { formatBackupCreated, formatBackupList, formatRestored } from '../format/data-lifecycle.ts';

/** backup, backup list, restore: encrypted snapshots of a client's volume under its own key. */
export function registerBackupCommands(program: Command, context: CliContext): void {
  const backup = program
    .command('backup')
    .description('an encrypted backup of the client’s volume now (a daily job keeps 7 daily and 4 weekly)')
    .argument('[client]')
    .action(async (rawClientId: string | undefined) => {
      if (rawClientId === undefined) throw new FleetError('invalid_input', 'usage: fleet backup <client>');
      // Every argument is checked before the service is reached (or started).
      const clientId = parseClientId(rawClientId);
      const created = await (await context.api()).backup(clientId);
      context.print(created, () => formatBackupCreated(created));
    });
  backup
    .command('list')
    .argument('<client>')
    .action(async (rawClientId: string) => {
      const clientId = parseClientId(rawClientId);
      const backups = await (await context.api()).listBackups(clientId);
      context.print(backups, () => formatBackupList(backups));
    });
  program
    .command('restore')
    .description('restore the client’s volume from a backup into a fresh container with a new secret introduction')
    .argument('<client>')
    .requiredOption('--from <backup-id>', 'the backup to restore (`fleet backup list <client>`)')
    .action(async (rawClientId: string, options: { from: string }) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).restore(clientId, options.from);
      context.print(result, () => formatRestored(result));
      if (result.chain !== null && !result.chain.ok) context.failWith('integrity');
    });
}

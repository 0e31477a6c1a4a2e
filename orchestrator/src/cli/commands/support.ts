import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import {
  formatSupportGrants,
  formatSupportRequested,
  formatSupportRevoked,
} from '../format/support.ts';
import { wholeHoursOption } from '../options.ts';

/**
 * support request, revoke, list: per-incident, client-approved, time-limited access to a client's data.
 * Only a client admin approves or denies a request, signed in to the client portal.
 */
export function registerSupportCommands(program: Command, context: CliContext): void {
  const support = program
    .command('support')
    .description('per-incident, client-approved, time-limited access of the team to a client’s data');
  support
    .command('request')
    .argument('<client>')
    .requiredOption('--incident <id>', 'the incident this access is for, e.g. INC-42')
    .requiredOption('--reason <text>', 'why the team needs the client’s data')
    .option('--hours <n>', 'how long the access lasts once approved (1-24)', '4')
    .option('--member <identity>', 'the team member it is for (default: you)')
    .action(
      async (
        rawClientId: string,
        options: { incident: string; reason: string; hours: string; member?: string },
      ) => {
        const clientId = parseClientId(rawClientId);
        const hours = wholeHoursOption(options.hours);
        const grant = await (
          await context.api()
        ).requestSupport(clientId, {
          incident: options.incident,
          reason: options.reason,
          hours,
          member: options.member,
        });
        context.print(grant, () => formatSupportRequested(clientId, grant));
      },
    );
  support
    .command('revoke')
    .argument('<client>')
    .argument('<grant-id>')
    .action(async (rawClientId: string, grantId: string) => {
      const clientId = parseClientId(rawClientId);
      const grant = await (await context.api()).revokeSupport(clientId, grantId);
      context.print(grant, () => formatSupportRevoked(grant));
    });
  support
    .command('list')
    .argument('<client>')
    .action(async (rawClientId: string) => {
      const clientId = parseClientId(rawClientId);
      const grants = await (await context.api()).listSupportGrants(clientId);
      context.print(grants, () => formatSupportGrants(grants));
    });
}

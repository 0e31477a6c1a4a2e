import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatInvite } from '../format/portal.ts';

/** portal invite: a client admin's enrolment link for the client portal. */
export function registerPortalCommands(program: Command, context: CliContext): void {
  const portal = program.command('portal').description('the client admins’ own portal (approvals, kill switch, support access)');
  portal
    .command('invite')
    .description(
      'send a client admin a single-use 24 h enrolment link through the client’s own mailbox (nobody at the agency sees it)',
    )
    .argument('<client>')
    .argument('<admin>', 'one of the admins in the client’s config')
    .option('--print', 'show the link to you instead (a mailbox not connected yet); ops-logged as shown to you')
    .action(async (rawClientId: string, admin: string, options: { print?: boolean }) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).invitePortalAdmin(clientId, admin, options.print === true);
      context.print(result, () => formatInvite(result));
    });
}

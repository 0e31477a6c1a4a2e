import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { formatMemberAdded, formatMembers } from '../format/team.ts';

/**
 * team add, list, remove, reissue: the agency's named team members. The first member is added over the
 * owner-only socket without a session (the bootstrap, ops-logged); every later change is made by a
 * signed-in member who entered a code within the last 15 minutes.
 */
export function registerTeamCommands(program: Command, context: CliContext): void {
  const team = program
    .command('team')
    .description('the agency’s team members, each signing in with a code from an authenticator app');
  team
    .command('add')
    .description('add a member; shows their single-use enrolment code once')
    .argument('<name>', 'the name the ops log shows, e.g. alice')
    .requiredOption('--email <address>', 'the member’s email address')
    .action(async (name: string, options: { email: string }) => {
      const added = await (await context.teamApi()).addMember(name, options.email);
      context.print(added, () => formatMemberAdded(added));
    });
  team.command('list').action(async () => {
    const members = await (await context.teamApi()).listMembers();
    context.print(members, () => formatMembers(members));
  });
  team
    .command('remove')
    .description('remove a member and end their sessions')
    .argument('<name>')
    .action(async (name: string) => {
      const removed = await (await context.teamApi()).removeMember(name);
      context.print(removed, () => `${removed.member} removed (${removed.sessionsEnded} session(s) ended).`);
    });
  team
    .command('reissue')
    .description('a new enrolment code for a member who lost their authenticator (their sessions end)')
    .argument('<name>')
    .action(async (name: string) => {
      const added = await (await context.teamApi()).reissue(name);
      context.print(added, () => formatMemberAdded(added));
    });
}

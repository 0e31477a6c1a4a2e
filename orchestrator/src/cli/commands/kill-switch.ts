import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatKilled, formatResumed, formatRevived, formatRotated } from '../format/kill-switch.ts';
import { requiredReason } from '../options.ts';

/** kill, revive, rotate, resume: stopping an agent at once, and bringing it back. */
export function registerKillSwitchCommands(program: Command, context: CliContext): void {
  program
    .command('kill')
    .description(
      'kill switch: revoke the agent’s tokens, deny its Vault policy, stop it; nothing it does gets out after this returns',
    )
    .argument('<client>')
    .requiredOption('--reason <text>', 'why, for the ops log')
    .action(async (rawClientId: string, options: { reason: string }) => {
      const clientId = parseClientId(rawClientId);
      const reason = requiredReason(options.reason);
      const result = await (await context.api()).kill(clientId, reason);
      context.print(result, () => formatKilled(clientId, result));
      if (!result.containerStopped) context.failWith('unavailable');
    });

  program
    .command('revive')
    .description('undo a kill: restore the policy, start the agent with a fresh secret introduction')
    .argument('<client>')
    .requiredOption('--reason <text>', 'why, for the ops log')
    .action(async (rawClientId: string, options: { reason: string }) => {
      const clientId = parseClientId(rawClientId);
      const reason = requiredReason(options.reason);
      await (await context.api()).revive(clientId, reason);
      context.print({ revived: clientId }, () => formatRevived(clientId));
    });

  program
    .command('rotate')
    .description('rotate the agent’s Vault token, data key and control token (old data stays readable)')
    .argument('<client>')
    .option('--reason <text>', 'why, for the ops log', 'manual rotation')
    .action(async (rawClientId: string, options: { reason: string }) => {
      const clientId = parseClientId(rawClientId);
      const reason = requiredReason(options.reason);
      const result = await (await context.api()).rotate(clientId, reason);
      context.print(result, () => formatRotated(clientId, result));
    });

  program
    .command('resume')
    .description('resume sending after a rate-limit or authentication pause')
    .argument('<client>')
    .action(async (rawClientId: string) => {
      const clientId = parseClientId(rawClientId);
      await (await context.api()).resume(clientId);
      context.print({ resumed: clientId }, () => formatResumed(clientId));
    });
}

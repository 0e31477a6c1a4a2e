import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatApprovalDecided } from '../format/approvals.ts';
import { formatApprovalAges } from '../format/portal.ts';

/** approvals list, approve, reject: drafts and actions the agent holds for a client admin. */
export function registerApprovalCommands(program: Command, context: CliContext): void {
  const approvals = program
    .command('approvals')
    .description('drafts and actions waiting for a client admin (content only under a support grant)');
  approvals
    .command('list')
    .argument('<client>')
    .option('--status <status>', 'pending, approved, rejected, expired or all', 'pending')
    .action(async (rawClientId: string, options: { status: string }) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).listApprovals(clientId, options.status);
      // Without a support grant: counts and ages. With one: always JSON (nested previews read in full).
      if (result.content === 'hidden') context.print(result, () => formatApprovalAges(result));
      else context.printAs(true, result, () => '');
    });
  for (const decision of ['approve', 'reject'] as const) {
    approvals
      .command(decision)
      .argument('<client>')
      .argument('<approval-id>')
      .requiredOption('--by <admin>', 'the client admin deciding')
      .option('--reason <text>', decision === 'reject' ? 'required: why it is rejected' : 'optional note')
      .action(async (rawClientId: string, approvalId: string, options: { by: string; reason?: string }) => {
        const clientId = parseClientId(rawClientId);
        const result = await (
          await context.api()
        ).decideApproval(clientId, approvalId, { decision, by: options.by, reason: options.reason });
        context.print(result, () => formatApprovalDecided(approvalId, decision));
      });
  }
}

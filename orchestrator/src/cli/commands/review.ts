import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatReviewQueue, formatReviewResolved } from '../format/review.ts';

/**
 * review list, handled, retry: the messages a client's agent parked for a human (malformed model output,
 * unusable draft, low confidence), and saying what became of one.
 */
export function registerReviewCommands(program: Command, context: CliContext): void {
  const review = program.command('review').description("messages a client's agent parked for a human to look at");
  review
    .command('list')
    .argument('<client>')
    .description('reason and age of each parked message (no content: the message stays in the mailbox)')
    .action(async (rawClientId: string) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).listReview(clientId);
      context.print(result, () => formatReviewQueue(result.clientId, result.review, new Date()));
    });
  review
    .command('handled')
    .argument('<client>')
    .argument('<message-id>')
    .description('someone dealt with the message in the mailbox: it leaves the queue (audited)')
    .action(async (rawClientId: string, messageId: string) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).resolveReview(clientId, messageId, 'handled');
      context.print(result, () => formatReviewResolved(result));
    });
  review
    .command('retry')
    .argument('<client>')
    .argument('<message-id>')
    .description('the agent processes the message again from the start, once; parked again, only "handled" remains (audited)')
    .action(async (rawClientId: string, messageId: string) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).resolveReview(clientId, messageId, 'retry');
      context.print(result, () => formatReviewResolved(result));
    });
}

import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatReviewQueue } from '../format/review.ts';

/** review list: the messages a client's agent parked for a human (malformed model output, unusable draft, low confidence). */
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
}

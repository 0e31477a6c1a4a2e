import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CliContext } from '../cli-context.ts';
import { formatErased, formatErasureRequest, formatErasureRequests } from '../format/data-lifecycle.ts';
import { isoTimeOption } from '../options.ts';

interface ErasureOptions {
  requestId: string;
  received?: string;
}

/** The 30-day deadline counts from it: a day that does not exist is refused, never rolled over to another. */
function receivedOption(value: string | undefined): string | undefined {
  return value === undefined ? undefined : isoTimeOption('--received', value);
}

/** erase, erase request, erase list: the right to deletion, with its 30-day deadline tracked. */
export function registerEraseCommands(program: Command, context: CliContext): void {
  const erase = program
    .command('erase')
    .description('erase everything of a client now: kill, revoke its OAuth grant, delete volume, secrets, backups and its key (crypto-shredding); a tombstone and a deletion certificate stay')
    .argument('[client]')
    .option('--request-id <id>', 'the erasure request this carries out, e.g. DSR-2026-014')
    .option('--received <iso>', 'when the request was received (default now; the 30-day deadline counts from it)')
    .action(async (rawClientId: string | undefined, options: Partial<ErasureOptions>) => {
      if (rawClientId === undefined || options.requestId === undefined) throw new FleetError('invalid_input', 'usage: fleet erase <client> --request-id <id>');
      // Every argument is checked before the service is reached (or started).
      const clientId = parseClientId(rawClientId);
      const receivedAt = receivedOption(options.received);
      const outcome = await (await context.api()).erase(clientId, { requestId: options.requestId, receivedAt });
      context.print(outcome, () => formatErased(outcome));
    });
  erase
    .command('request')
    .description('record an erasure request now and carry it out later (its deadline is tracked and alerted on)')
    .argument('<client>')
    .option('--request-id <id>', 'the request’s id')
    .option('--received <iso>', 'when it was received (default now)')
    .action(async (rawClientId: string, _options: unknown, command: Command) => {
      // Both options are also options of `erase`, which takes them: read them from the merged options.
      const options = command.optsWithGlobals<Partial<ErasureOptions>>();
      if (options.requestId === undefined) throw new FleetError('invalid_input', '--request-id <id> is required');
      const clientId = parseClientId(rawClientId);
      const receivedAt = receivedOption(options.received);
      const request = await (await context.api()).recordErasureRequest(clientId, { requestId: options.requestId, receivedAt });
      context.print(request, () => formatErasureRequest(request));
    });
  erase
    .command('list')
    .description('open erasure requests with their deadlines')
    .action(async () => {
      const requests = await (await context.api()).erasureRequests();
      context.print(requests, () => formatErasureRequests(requests));
    });
}

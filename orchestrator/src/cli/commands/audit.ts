import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import { formatAuditReanchor, formatAuditVerification } from '../format/audit.ts';
import { isoTimeOption, requiredReason } from '../options.ts';
import { terminalSink } from '../terminal-sink.ts';

/** audit verify, reanchor, accept-volume, export: the agent's tamper-evident, encrypted audit log. */
export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('the agent’s tamper-evident, encrypted audit log');
  audit
    .command('verify')
    .argument('<client>')
    .action(async (rawClientId: string) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).verifyAudit(clientId);
      context.print(result, () => formatAuditVerification(clientId, result));
      if (!result.verification.ok) context.failWith('integrity');
    });
  audit
    .command('reanchor')
    .description('accept the agent’s current chain as the new checkpoint after a known break (a restore from an older backup); the ops log keeps the old one')
    .argument('<client>')
    .requiredOption('--reason <text>', 'why, for the ops log')
    .action(async (rawClientId: string, options: { reason: string }) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).reanchorAudit(clientId, requiredReason(options.reason));
      context.print(result, () => formatAuditReanchor(clientId, result));
    });
  audit
    .command('accept-volume')
    .description('accept the volume the agent refused as rolled back (readiness journal_rolled_back: a restore done by hand, a false alarm): resets its journal anchor, introduces it again and re-anchors the checkpoint; the ops log keeps the old one')
    .argument('<client>')
    .requiredOption('--reason <text>', 'why, for the ops log')
    .action(async (rawClientId: string, options: { reason: string }) => {
      const clientId = parseClientId(rawClientId);
      const result = await (await context.api()).acceptAgentVolume(clientId, requiredReason(options.reason));
      context.print(result, () => `volume of ${clientId} accepted and opened; ${formatAuditReanchor(clientId, result)}`);
    });
  audit
    .command('export')
    .argument('<client>')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--since <iso>', 'from this time (ISO 8601)')
    .option('--until <iso>', 'until this time (ISO 8601)')
    .action(async (rawClientId: string, options: { format: string; since?: string; until?: string }) => {
      const clientId = parseClientId(rawClientId);
      // `--since ""` (an unset shell variable) is refused, not read as "from the start".
      const query = {
        format: options.format,
        ...(options.since === undefined ? {} : { since: isoTimeOption('--since', options.since) }),
        ...(options.until === undefined ? {} : { until: isoTimeOption('--until', options.until) }),
      };
      const sink = terminalSink(context.io.stdout);
      await (await context.api()).exportAudit(clientId, query, sink);
      if (sink !== context.io.stdout) sink.end();
    });
}

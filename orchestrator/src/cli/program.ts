import { Command } from 'commander';
import { describeCauseChain, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { CliContext, type CliIo } from './cli-context.ts';
import { registerApprovalCommands } from './commands/approvals.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerConnectCommand } from './commands/connect.ts';
import { registerKillSwitchCommands } from './commands/kill-switch.ts';
import { registerLifecycleCommands } from './commands/lifecycle.ts';
import { registerOpsLogCommands } from './commands/ops-log.ts';
import { registerSecretsCommands } from './commands/secrets.ts';
import { registerServiceCommands } from './commands/service.ts';
import { registerSupportCommands } from './commands/support.ts';
import { EXIT_CODES } from './exit-codes.ts';

/** The `fleet` program with every command group; nothing runs (and no config is read) until it parses. */
export function buildProgram(context: CliContext): Command {
  const program = new Command('fleet')
    .description('agent-fleet: one isolated AI employee per client')
    .option('--json', 'print machine-readable JSON')
    .option('--verbose', 'on error, print the cause chain')
    .showHelpAfterError();
  program.hook('preAction', () => context.useOptions(program.opts<{ json?: boolean }>()));
  registerLifecycleCommands(program, context);
  registerKillSwitchCommands(program, context);
  registerSecretsCommands(program, context);
  registerConnectCommand(program, context);
  registerApprovalCommands(program, context);
  registerAuditCommands(program, context);
  registerSupportCommands(program, context);
  registerOpsLogCommands(program, context);
  registerServiceCommands(program, context);
  return program;
}

/**
 * Runs one `fleet` invocation and returns its exit status: 0, the status a command set for a result
 * that is a failure, or the status of the error's code (one line on stderr; `--verbose` adds the causes).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const context = new CliContext(io);
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv);
    return context.exitCode;
  } catch (error) {
    io.stderr.write(`fleet: ${(error as Error).message}\n`);
    if (program.opts<{ verbose?: boolean }>().verbose) {
      for (const line of describeCauseChain(error).slice(1)) io.stderr.write(`  caused by ${line}\n`);
    }
    return EXIT_CODES[isFleetError(error) ? error.code : 'internal'];
  }
}

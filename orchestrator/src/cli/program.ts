import { Command, CommanderError } from 'commander';
import { describeCauseChain, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { CliContext, type CliIo } from './cli-context.ts';
import { registerApprovalCommands } from './commands/approvals.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerConnectCommand } from './commands/connect.ts';
import { registerDoctorCommands } from './commands/doctor.ts';
import { registerEraseCommands } from './commands/erase.ts';
import { registerExportCommands } from './commands/export.ts';
import { registerIncidentCommands } from './commands/incident.ts';
import { registerKillSwitchCommands } from './commands/kill-switch.ts';
import { registerLifecycleCommands } from './commands/lifecycle.ts';
import { registerLoginCommands } from './commands/login.ts';
import { registerOpsLogCommands } from './commands/ops-log.ts';
import { registerPortalCommands } from './commands/portal.ts';
import { registerReviewCommands } from './commands/review.ts';
import { registerSecretsCommands } from './commands/secrets.ts';
import { registerServiceCommands } from './commands/service.ts';
import { registerSupportCommands } from './commands/support.ts';
import { registerTeamCommands } from './commands/team.ts';
import { EXIT_CODES } from './exit-codes.ts';
import { refuseRepeatedOptions } from './single-valued-options.ts';
import { terminalSafe } from './terminal-text.ts';

/** The `fleet` program with every command group; nothing runs (and no config is read) until it parses. */
export function buildProgram(context: CliContext): Command {
  const program = new Command('fleet')
    .description('agent-fleet: one isolated AI employee per client')
    .option('--json', 'print machine-readable JSON')
    .option('--verbose', 'on error, print the cause chain')
    .option('--code <code>', 'a code from your authenticator app, entered before the command: client data opens for 15 minutes')
    .showHelpAfterError()
    // Usage errors and --help come back as a CommanderError instead of ending the process, so an in-process
    // caller (tests, the service's own use) keeps running; subcommands inherit this when created below.
    .exitOverride()
    // Help and usage errors go to the streams given, inert like all output (they echo the arguments).
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(terminalSafe(text)),
      writeErr: (text) => context.io.stderr.write(terminalSafe(text)),
    });
  program.hook('preAction', () => context.useOptions(program.opts<{ json?: boolean; code?: string }>()));
  registerLifecycleCommands(program, context);
  registerKillSwitchCommands(program, context);
  registerSecretsCommands(program, context);
  registerConnectCommand(program, context);
  registerApprovalCommands(program, context);
  registerReviewCommands(program, context);
  registerAuditCommands(program, context);
  registerSupportCommands(program, context);
  registerIncidentCommands(program, context);
  registerPortalCommands(program, context);
  registerConfigCommands(program, context);
  registerExportCommands(program, context);
  registerBackupCommands(program, context);
  registerEraseCommands(program, context);
  registerOpsLogCommands(program, context);
  registerServiceCommands(program, context);
  registerTeamCommands(program, context);
  registerLoginCommands(program, context);
  registerDoctorCommands(program, context);
  refuseRepeatedOptions(program);
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
    // commander has already printed its own message (usage error) or the help text; a usage error (an
    // unknown command or option, a missing argument) exits with the usage status like every other refusal.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODES.invalid_input;
    // The message may quote the service or client data: inert on the terminal (terminal-text.ts).
    io.stderr.write(`fleet: ${terminalSafe((error as Error).message)}\n`);
    if (program.opts<{ verbose?: boolean }>().verbose) {
      for (const line of describeCauseChain(error).slice(1)) io.stderr.write(`  caused by ${terminalSafe(line)}\n`);
    }
    return EXIT_CODES[isFleetError(error) ? error.code : 'internal'];
  }
}

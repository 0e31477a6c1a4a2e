import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CliContext } from '../cli-context.ts';
import { formatChecklist } from '../format/doctor.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * doctor: the spec's onboarding checklist of a client against the live system, with the evidence for
 * each item; `--attest` records a human item, `--sandbox` checks and records a dry-run round against the
 * mail emulator. Exits 4 (conflict) while a required item is open.
 */
export function registerDoctorCommands(program: Command, context: CliContext): void {
  program
    .command('doctor')
    .description(
      'check a client’s onboarding checklist against the live system (exit 4 while a required item is open)',
    )
    .argument('<client>')
    .option(
      '--attest <item>',
      'record a human item as done: data-handling-reviewed, dpa, configuration-documented, week1-review-call, client-understands-controls',
    )
    .option('--note <text>', 'with --attest: what was done and where it is recorded')
    .option('--not-applicable', 'with --attest dpa: the client has no EU data subjects')
    .option(
      '--sandbox',
      'check and record a dry-run round of the agent against the mail emulator (--emulator)',
    )
    .option('--emulator <url>', 'with --sandbox: the mail emulator the agent works against')
    .option('--marker <text>', 'a plaintext canary the volume must not hold (repeatable)', collect, [])
    .action(
      async (
        rawClientId: string,
        options: {
          attest?: string;
          note?: string;
          notApplicable?: boolean;
          sandbox?: boolean;
          emulator?: string;
          marker: string[];
        },
      ) => {
        const clientId = parseClientId(rawClientId);
        if (options.sandbox && !options.emulator)
          throw new FleetError(
            'invalid_input',
            '--sandbox needs --emulator <url>: the mail emulator the agent works against',
          );
        if (options.attest !== undefined && !options.note?.trim())
          throw new FleetError(
            'invalid_input',
            '--attest needs --note "…": what was done and where it is recorded',
          );
        const api = await context.teamApi();
        const report =
          options.attest !== undefined
            ? await api.attest(clientId, {
                item: options.attest,
                note: options.note ?? '',
                notApplicable: options.notApplicable === true,
              })
            : await api.doctor(clientId, {
                markers: options.marker,
                sandboxEmulator: options.sandbox ? options.emulator : undefined,
              });
        context.print(report, () => formatChecklist(report));
        if (report.open.required > 0) context.failWith('conflict');
      },
    );
}

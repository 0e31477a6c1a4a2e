import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { checklistVerdict } from '../../domain/onboarding-checklist.ts';
import type { CliContext } from '../cli-context.ts';
import { DOCTOR_EXIT_CODES } from '../exit-codes.ts';
import { formatAttestation, formatChecklist } from '../format/doctor.ts';
import { doctorRequestOf, type DoctorOptions } from './doctor-options.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * doctor: the spec's onboarding checklist of a client against the live system, with the evidence for
 * each item; `--attest` records a human item, `--sandbox` checks and records a dry-run round against the
 * mail emulator. Exit statuses: DOCTOR_EXIT_CODES (an attestation, once recorded, exits 0).
 */
export function registerDoctorCommands(program: Command, context: CliContext): void {
  program
    .command('doctor')
    .description(
      'check a client’s onboarding checklist against the live system (exit 0 all done, 4 an item failed, 8 only items pending; --attest exits 0 once recorded)',
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
    .action(async (rawClientId: string, options: DoctorOptions) => {
      const clientId = parseClientId(rawClientId);
      const request = doctorRequestOf(options);
      const api = await context.teamApi();
      if (request.kind === 'attest') {
        const report = await api.attest(clientId, request.attestation);
        // Recorded, so the command did what it was asked: what else is open is in the checklist printed.
        context.print(report, () => formatAttestation(report, request.attestation.item));
        return;
      }
      const report = await api.doctor(clientId, request.check);
      context.print(report, () => formatChecklist(report));
      context.exitWith(DOCTOR_EXIT_CODES[checklistVerdict(report)]);
    });
}

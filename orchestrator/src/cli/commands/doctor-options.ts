import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** `fleet doctor`'s options as commander hands them over. */
export interface DoctorOptions {
  attest?: string;
  note?: string;
  notApplicable?: boolean;
  sandbox?: boolean;
  emulator?: string;
  marker: string[];
}

/** What the options ask for: a checklist run, or an attestation (which runs the checklist again, plainly). */
export type DoctorRequest =
  | { kind: 'check'; check: { markers: string[]; sandboxEmulator: string | undefined } }
  | { kind: 'attest'; attestation: { item: string; note: string; notApplicable: boolean } };

const refuse = (message: string): never => {
  throw new FleetError('invalid_input', message);
};

/**
 * The request the options make, refusing any option that would be ignored: an option dropped in silence
 * reads as done (a canary never looked for, an emulator never checked, a note attested nowhere).
 */
export function doctorRequestOf(options: DoctorOptions): DoctorRequest {
  if (options.attest !== undefined) {
    if (options.sandbox === true || options.emulator !== undefined || options.marker.length > 0)
      refuse(
        '--attest records an attestation only: run the checklist with --sandbox, --emulator or --marker separately',
      );
    const note = options.note?.trim() ?? '';
    if (note === '') refuse('--attest needs --note "…": what was done and where it is recorded');
    return {
      kind: 'attest',
      attestation: { item: options.attest, note, notApplicable: options.notApplicable === true },
    };
  }
  if (options.note !== undefined || options.notApplicable === true)
    refuse('--note and --not-applicable go with --attest <item>: nothing was attested');
  if (options.sandbox === true && options.emulator === undefined)
    refuse('--sandbox needs --emulator <url>: the mail emulator the agent works against');
  if (options.sandbox !== true && options.emulator !== undefined)
    refuse('--emulator goes with --sandbox: no sandbox round was checked');
  return {
    kind: 'check',
    check: {
      markers: options.marker,
      sandboxEmulator: options.sandbox === true ? options.emulator : undefined,
    },
  };
}

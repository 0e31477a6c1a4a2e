import type { Command } from 'commander';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * Refuses an option that takes one value when it is given more than once (`--reason a --reason b`, a
 * `--reason` added to a command line that had one): commander keeps the last without a word, and which
 * reason reaches the ops log, or which version is restored, must not depend on that. Options that collect
 * values by design (`--client <id...>`, `--marker` with its own parser) and flags are left as they are.
 * Call once the program has every command.
 */
export function refuseRepeatedOptions(command: Command): void {
  for (const option of command.options) {
    if (option.isBoolean() || option.variadic || option.parseArg !== undefined) continue;
    let seen = 0;
    command.on(`option:${option.name()}`, () => {
      seen += 1;
      if (seen > 1) throw new FleetError('invalid_input', `${option.long ?? option.flags} is given more than once: give it once`);
    });
  }
  for (const sub of command.commands) refuseRepeatedOptions(sub);
}

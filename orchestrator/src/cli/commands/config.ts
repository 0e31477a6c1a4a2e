import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CliContext } from '../cli-context.ts';
import { VERSION_LINE, formatGuardRailConfirmed, formatSettingsChanged, formatSettingsHistory, formatSettingsView } from '../format/config.ts';
import { readClientConfigFile } from '../options.ts';
import { settingsConfirmClient } from '../settings-confirm-client.ts';
import { GUARD_RAIL_ID, MAX_GUARD_RAIL_ID } from '../../services/provision-guard-rails.ts';

/** Settings versions count from 1; a base of 0 is the document before the first version. */
const FIRST_VERSION = 1;
/** The most versions `config history` lists (the API's bound). */
const MAX_HISTORY = 1000;

/**
 * A whole number from `min` (to `max`), checked before the service is reached: a version 0 or a limit the
 * API bounds otherwise started the service for a refusal that named the API's field, not the option.
 */
function wholeNumber(name: string, value: string, min: number, max?: number): number {
  const number = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= (max ?? number))) {
    const range = max === undefined ? `from ${min}` : `from ${min} to ${max}`;
    throw new FleetError('invalid_input', `${name} must be a whole number ${range} (got ${JSON.stringify(value)})`);
  }
  return number;
}

/** The base version: `--base`, else the `# settings-version: N` line `fleet config show` printed. */
function baseVersionOf(option: string | undefined, text: string): number {
  if (option !== undefined) return wholeNumber('--base', option, 0);
  const line = VERSION_LINE.exec(text);
  if (line?.[1] === undefined) {
    throw new FleetError('invalid_input', 'which version did you edit? Keep the "# settings-version: N" line from `fleet config show`, or pass --base N');
  }
  return Number(line[1]);
}

/**
 * A rollback's base is required: without it the rollback starts from whatever is in force when it runs, and
 * a guard rail confirmed by id would also cover changes made since, which the operator never saw.
 */
function rollbackBaseOf(clientId: string, option: string | undefined): number {
  if (option === undefined) {
    throw new FleetError('invalid_input', `which version is in force? \`fleet config show ${clientId}\` prints it ("# settings-version: N"); pass --base N, and the rollback is refused if the settings moved past it`);
  }
  return wholeNumber('--base', option, 0);
}

/** The one rail `config confirm` names, checked before the service is reached (or started). */
export function confirmedRailOf(rail: string): string {
  if (rail.length > MAX_GUARD_RAIL_ID || !GUARD_RAIL_ID.test(rail)) {
    throw new FleetError('invalid_input', `<rail>: ${JSON.stringify(rail.slice(0, MAX_GUARD_RAIL_ID))} is not a guard-rail id (such as permissions.mail.send or rateLimits.perHour)`);
  }
  return rail;
}

/** config show, set, history, rollback, confirm: the client's versioned settings, kept by its agent. */
export function registerConfigCommands(program: Command, context: CliContext): void {
  const config = program.command('config').description('the client’s settings: one versioned document, applied live by its agent');
  config
    .command('show')
    .argument('<client>')
    .option('--version <n>', 'an older version instead of the one in force')
    .description('print the settings as YAML (with the version line `config set` needs)')
    .action(async (rawClientId: string, options: { version?: string }) => {
      const clientId = parseClientId(rawClientId);
      // Every argument is checked before the service is reached (or started).
      const wanted = options.version === undefined ? undefined : wholeNumber('--version', options.version, FIRST_VERSION);
      const settings = (await context.api()).settings;
      if (wanted === undefined) {
        const view = await settings.show(clientId);
        context.print(view, () => formatSettingsView(view));
        return;
      }
      const version = await settings.version(clientId, wanted);
      context.print(version, () => JSON.stringify(version.config, null, 2));
    });
  config
    .command('set')
    .argument('<client>')
    .argument('<file>', 'the edited YAML document, or - for standard input')
    .requiredOption('--reason <text>', 'why (recorded with the version, in the audit and ops logs)')
    .option('--base <n>', 'the version the edit started from (default: the "# settings-version" line of the file)')
    .option('--confirm <rail...>', 'guard rails you accept, by id (the refusal names them with their risk)')
    .action(async (rawClientId: string, file: string, options: { reason: string; base?: string; confirm?: string[] }) => {
      const clientId = parseClientId(rawClientId);
      const yaml = await readClientConfigFile(file);
      const baseVersion = baseVersionOf(options.base, yaml);
      const outcome = await (await context.api()).settings.set(clientId, { yaml, baseVersion, reason: options.reason, confirm: options.confirm ?? [] });
      context.print(outcome, () => formatSettingsChanged(outcome));
    });
  config
    .command('history')
    .argument('<client>')
    .option('--limit <n>', 'at most this many versions, newest first', '20')
    .action(async (rawClientId: string, options: { limit: string }) => {
      const clientId = parseClientId(rawClientId);
      const limit = wholeNumber('--limit', options.limit, 1, MAX_HISTORY);
      const versions = await (await context.api()).settings.history(clientId, limit);
      context.print(versions, () => formatSettingsHistory(clientId, versions));
    });
  config
    .command('rollback')
    .argument('<client>')
    .requiredOption('--to <n>', 'the version whose settings to restore (as a new version)')
    .requiredOption('--reason <text>', 'why')
    .option('--base <n>', 'the version in force you saw (`fleet config show`); refused if the settings moved past it')
    .option('--confirm <rail...>', 'guard rails you accept, by id')
    .action(async (rawClientId: string, options: { to: string; reason: string; base?: string; confirm?: string[] }) => {
      const clientId = parseClientId(rawClientId);
      const change = {
        toVersion: wholeNumber('--to', options.to, FIRST_VERSION),
        baseVersion: rollbackBaseOf(clientId, options.base),
        reason: options.reason,
        confirm: options.confirm ?? [],
      };
      const outcome = await (await context.api()).settings.rollback(clientId, change);
      context.print(outcome, () => formatSettingsChanged(outcome));
    });
  config
    .command('confirm')
    .argument('<client>')
    .argument('<rail>', 'the guard rail the settings in force cross, by id (such as permissions.mail.send)')
    .option('--reason <text>', 'why it is accepted (recorded with the confirmation)')
    .description('record that you accept a guard rail the settings in force already cross (the doctor counts it)')
    .action(async (rawClientId: string, rawRail: string, options: { reason?: string }) => {
      const clientId = parseClientId(rawClientId);
      const rail = confirmedRailOf(rawRail);
      const outcome = await (await settingsConfirmClient(context)).confirm(clientId, { rail, reason: options.reason });
      context.print(outcome, () => formatGuardRailConfirmed(outcome));
    });
}

import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { LIVE_SECRETS } from '@agent-fleet/kernel/live-secrets';
import type { CliContext } from '../cli-context.ts';
import { formatSecretList, formatSecretStored } from '../format/secrets.ts';
import { readStandardInput } from '../secret-input.ts';

/** secrets set, secrets list: the client's secrets in Vault; values go in by stdin and never come out. */
export function registerSecretsCommands(program: Command, context: CliContext): void {
  const secrets = program
    .command('secrets')
    .description('the client’s secrets in Vault (values are never shown)');
  secrets
    .command('set')
    .description('store a secret; the value is read from standard input, never from the command line')
    .argument('<client>')
    .argument('<name>', `e.g. ${Object.keys(LIVE_SECRETS).join(', ')}`)
    .action(async (rawClientId: string, name: string) => {
      const clientId = parseClientId(rawClientId);
      if (process.stdin.isTTY)
        context.io.stderr.write('type the value, then press Ctrl-D (it is not echoed to any log)\n');
      const value = await readStandardInput('the secret on standard input');
      if (value === '') throw new FleetError('invalid_input', 'the secret on standard input is empty: pipe the value in, e.g. fleet secrets set <client> <name> < file');
      const result = await (await context.api()).setSecret(clientId, name, value);
      context.print(result, () => formatSecretStored(clientId, name, result.version));
    });
  secrets
    .command('list')
    .argument('<client>')
    .action(async (rawClientId: string) => {
      const clientId = parseClientId(rawClientId);
      const list = await (await context.api()).listSecrets(clientId);
      context.print(list, () => formatSecretList(list));
    });
}

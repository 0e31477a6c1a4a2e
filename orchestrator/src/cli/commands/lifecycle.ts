import path from 'node:path';
import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { CliContext } from '../cli-context.ts';
import {
  formatClientList,
  formatClientStatus,
  formatDeprovisioned,
  formatProvisionResult,
  formatReconcileReport,
} from '../format/clients.ts';
import type { ProvisionBody } from '../fleet-api-client.ts';
import { readClientConfigFile, runtimeOption } from '../options.ts';
import { provisionWithProgress } from '../provision-progress.ts';
import { formatProvisionGuardRails, provisionConfirmations } from './provision-guard-rails.ts';

/** The fleet CA certificate the agents' control APIs are verified against (docs/tls.md). */
function fleetCaCertificateOf(context: CliContext): string {
  return path.join(context.config().portal.dataDir, 'fleet-ca', 'ca.crt');
}

/** provision, status, list, deprovision, reconcile: a client's agent from creation to removal. */
export function registerLifecycleCommands(program: Command, context: CliContext): void {
  program
    .command('provision')
    .description(
      'create (or converge) the client’s hardened agent container, network, volume and scrape target',
    )
    .argument('<client>', 'client id (DNS-1123 label, e.g. acme)')
    .option('-c, --config <file>', 'client config YAML (default: safe defaults)')
    .option(
      '--runtime <runtime>',
      'docker or kubernetes: the runtime the orchestrator must run (it picks FLEET_RUNTIME when the CLI starts it)',
    )
    .option(
      '--confirm <rail...>',
      'guard rails the config crosses from the safe defaults that you accept, by id (repeatable; recorded once provisioned)',
    )
    .action(async (rawClientId: string, options: { config?: string; runtime?: string; confirm?: string[] }) => {
      const clientId = parseClientId(rawClientId);
      const confirm = provisionConfirmations(options.confirm);
      const body: ProvisionBody = confirm.length === 0 ? {} : { confirm };
      if (options.runtime !== undefined) {
        body.runtime = runtimeOption(options.runtime);
        await context.checkRuntimeForNewService(body.runtime);
      }
      // `--config ""` (an unset shell variable) is an error, not a quiet fall-back to the defaults.
      if (options.config !== undefined) body.config = await readClientConfigFile(options.config);
      const api = await context.api(body.runtime === undefined ? {} : { runtime: body.runtime });
      const result = await provisionWithProgress(api, clientId, body, context.json ? null : context.io.stdout);
      if (result.outcome === 'provisioned') for (const warning of result.warnings) context.warn(warning);
      // An active client is left as it is: its config, and so what --confirm named, were not applied.
      if (result.outcome === 'already-active' && confirm.length > 0)
        context.warn(`${clientId} is already active: nothing was provisioned and no guard rail was confirmed`);
      context.print(result, () =>
        [formatProvisionResult(result, fleetCaCertificateOf(context)), ...formatProvisionGuardRails(result)].join('\n'),
      );
    });

  program
    .command('status')
    .description('registry state, container state and scrape target of one client')
    .argument('<client>')
    .action(async (rawClientId: string) => {
      const clientId = parseClientId(rawClientId);
      const status = await (await context.api()).describeClient(clientId);
      context.print(status, () => formatClientStatus(status));
    });

  program
    .command('list')
    .description('every client with its status')
    .action(async () => {
      const clients = await (await context.api()).listClients();
      context.print(clients, () => formatClientList(clients));
    });

  program
    .command('deprovision')
    .description('stop and remove the client’s agent and network (the volume is kept unless --purge)')
    .argument('<client>')
    .option('--purge', 'also delete the client’s volume and data')
    .option('--reason <text>', 'why, for the ops log')
    .action(async (rawClientId: string, options: { purge?: boolean; reason?: string }) => {
      const clientId = parseClientId(rawClientId);
      const result = await (
        await context.api()
      ).deprovision(clientId, { purge: options.purge === true, reason: options.reason });
      context.print(result, () => formatDeprovisioned(result));
    });

  program
    .command('reconcile')
    .description(
      'make the runtime match the registry once: restart crashed agents, remove orphans, report drift',
    )
    .action(async () => {
      const report = await (await context.api()).reconcile();
      context.print(report, () => formatReconcileReport(report));
    });
}

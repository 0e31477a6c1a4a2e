import type { Command } from 'commander';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { BULLHORN_DATA_CENTERS, parseBullhornDataCenter } from '@agent-fleet/kernel/bullhorn-data-centers';
import { consentForProvider } from '../../adapters/oauth/consent-for-provider.ts';
import { listenForRedirect } from '../../adapters/oauth/loopback-redirect-listener.ts';
import type { ConnectProvider } from '../../ports/oauth-consent.ts';
import { ConnectMailboxService, mailboxOfConsentPlan, otherMailboxesOfConsentPlan } from '../../services/connect-mailbox.ts';
import type { CliContext } from '../cli-context.ts';
import { mailboxConnectTarget } from '../fleet-api-client.ts';
import { formatMailboxConnected } from '../format/secrets.ts';
import { readSecretInput } from '../secret-input.ts';

interface ConnectOptions {
  provider: string;
  oauthClientId: string;
  tenant?: string;
  port: string;
  timeout: string;
  authorityHost?: string;
  dataCenter?: string;
}

function providerOption(value: string): ConnectProvider {
  if (value !== 'gmail' && value !== 'outlook' && value !== 'bullhorn')
    throw new FleetError(
      'invalid_input',
      `--provider must be gmail, outlook or bullhorn (got ${JSON.stringify(value)})`,
    );
  return value;
}

function integerOption(name: string, value: string, min: number, max: number): number {
  const number = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max))
    throw new FleetError('invalid_input', `${name} must be a whole number from ${min} to ${max}`);
  return number;
}

/** https, or http on loopback only (a local identity-platform or Bullhorn emulator). */
function authorityHostOption(value: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  const loopback = url !== null && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (
    url === null ||
    !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) ||
    url.pathname !== '/' ||
    url.search !== ''
  ) {
    throw new FleetError(
      'invalid_input',
      '--authority-host must be an https origin such as https://login.microsoftonline.us',
    );
  }
  return url.origin;
}

/** `fleet connect <client> --provider gmail|outlook|bullhorn`: the OAuth consent flow, run beside the operator. */
export function registerConnectCommand(program: Command, context: CliContext): void {
  program
    .command('connect')
    .description(
      'connect the client’s mailbox or CRM (bullhorn): OAuth consent in a browser, tokens stored in the client’s secrets',
    )
    .argument('<client>', 'client id')
    .requiredOption(
      '--provider <provider>',
      'gmail or outlook (must match the client’s config), or bullhorn (needs crm.read or crm.write)',
    )
    .requiredOption(
      '--oauth-client-id <id>',
      'the OAuth client (Google), application (Entra) or API key (Bullhorn) id; its secret is read from standard input',
    )
    .option('--tenant <tenant>', 'outlook: the Entra tenant id or domain (default common)')
    .option('--port <port>', 'port of the redirect listener on 127.0.0.1; 0 picks a free one', '0')
    .option('--timeout <seconds>', 'how long to wait for the browser', '300')
    .option(
      '--authority-host <url>',
      'outlook: identity platform host for a national cloud (default https://login.microsoftonline.com); bullhorn: the OAuth server (default: the data center’s)',
    )
    .option('--data-center <dc>', `bullhorn: the client’s data center, one of ${BULLHORN_DATA_CENTERS.join(', ')} (default east)`)
    .action(async (rawClientId: string, options: ConnectOptions) => {
      const clientId = parseClientId(rawClientId);
      const provider = providerOption(options.provider);
      if (options.tenant !== undefined && provider !== 'outlook')
        throw new FleetError('invalid_input', '--tenant applies to --provider outlook only');
      if (options.authorityHost !== undefined && provider === 'gmail') {
        throw new FleetError('invalid_input', '--authority-host applies to --provider outlook or bullhorn only');
      }
      if (options.dataCenter !== undefined && provider !== 'bullhorn')
        throw new FleetError('invalid_input', '--data-center applies to --provider bullhorn only');
      const dataCenter = options.dataCenter === undefined ? undefined : parseBullhornDataCenter(options.dataCenter);
      const authorityHost =
        options.authorityHost === undefined ? undefined : authorityHostOption(options.authorityHost);
      const port = integerOption('--port', options.port, 0, 65535);
      const timeoutMs = integerOption('--timeout', options.timeout, 10, 3600) * 1000;
      const api = await context.api();
      const target = mailboxConnectTarget(api);
      // Checked before asking for the secret: a wrong client or provider fails at once.
      await target.consentScopes(clientId, provider);
      const clientSecret = await readSecretInput('OAuth client secret (not echoed): ');
      const service = new ConnectMailboxService({
        target,
        consentFor: consentForProvider(
          authorityHost === undefined
            ? {}
            : provider === 'bullhorn'
              ? { bullhornAuthUrl: authorityHost }
              : { microsoftAuthorityHost: authorityHost },
        ),
        listen: (listenPort) => listenForRedirect(listenPort === undefined ? {} : { port: listenPort }),
        configuredMailbox: async (id, mailProvider) => mailboxOfConsentPlan(await api.mailboxConsent(id, mailProvider)),
        otherClientsMailboxes: async (id, mailProvider) => otherMailboxesOfConsentPlan(await api.mailboxConsent(id, mailProvider)),
        logger: createSilentLogger(),
      });
      const result = await service.connect(
        {
          clientId,
          provider,
          oauthClient: {
            clientId: options.oauthClientId,
            clientSecret,
            ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
            ...(dataCenter === undefined ? {} : { dataCenter }),
          },
          port,
          timeoutMs,
        },
        {
          authorizationUrl: (url, redirectUri) =>
            context.io.stderr.write(
              `Open this address in a browser on this machine and consent as the mailbox owner (waiting ${timeoutMs / 1000} s for ${redirectUri}):\n\n${url}\n\n`,
            ),
          warning: (message) => context.warn(message),
        },
      );
      // The scopes granted are recorded: the settings compare them with what their capabilities need.
      if (provider !== 'bullhorn') await (await context.api()).settings.recordGrant(clientId, { provider, scopes: result.grantedScopes, secretVersion: result.version });
      context.print(result, () => formatMailboxConnected(clientId, provider, result));
    });
}

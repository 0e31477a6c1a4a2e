import { createServer, type Server } from 'node:https';
import type { RequestListener } from 'node:http';
import { checkAgentTlsBundle, type AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';

/** The control API speaks TLS 1.3 only: a TLS 1.2 client or plain HTTP fails the handshake. */
export const TLS_13_ONLY = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/**
 * The control API's TLS identity: a certificate from the fleet CA that names this client (checked before
 * it is ever served), replaced in place when the orchestrator renews it (credential rotation). Keys stay in
 * this process's memory.
 */
export class ControlTls {
  private readonly clientId: ClientId;
  private readonly now: () => Date;
  private current: AgentTlsBundle;
  private server: Server | null = null;

  /** Throws `integrity` when the bundle is not this client's (another client's certificate, another CA, a foreign key). */
  constructor(bundle: AgentTlsBundle, options: { clientId: ClientId; now?: () => Date }) {
    this.clientId = options.clientId;
    this.now = options.now ?? (() => new Date());
    checkAgentTlsBundle(bundle, this.clientId, this.now());
    this.current = bundle;
  }

  /** The secure context options of the current bundle. */
  serverOptions(): { key: string; cert: string } & typeof TLS_13_ONLY {
    return { key: this.current.privateKeyPem, cert: this.current.certificatePem, ...TLS_13_ONLY };
  }

  attach(server: Server): void {
    this.server = server;
  }

  /**
   * A bundle read from Vault (after an introduction): served from the next connection on when it is new
   * and this client's; refused (logged to `logger`, the current one kept) when it is not. Returns whether it was taken.
   */
  offer(bundle: AgentTlsBundle, logger: Logger): boolean {
    if (bundle.certificatePem === this.current.certificatePem) return false;
    try {
      checkAgentTlsBundle(bundle, this.clientId, this.now());
    } catch (error) {
      logger.error('refusing a TLS certificate that is not this agent’s; keeping the current one', { error });
      return false;
    }
    this.current = bundle;
    this.server?.setSecureContext(this.serverOptions());
    logger.info('control API certificate renewed');
    return true;
  }
}

/**
 * How long a caller may take to send a request: its headers, then the whole request. Node's defaults (60 s
 * and 300 s) let anyone on the agent's network hold connections open by trickling an open route's body
 * (`/v1/introduce`, mail notifications). The largest body, a settings document of 3 MB, arrives in well
 * under a second on the agent's network. `checkEveryMs` is how often Node looks for a late request.
 */
export interface RequestTimeLimits {
  headersMs: number;
  requestMs: number;
  checkEveryMs: number;
}

export const CONTROL_REQUEST_TIME_LIMITS: Readonly<RequestTimeLimits> = { headersMs: 20_000, requestMs: 60_000, checkEveryMs: 5_000 };

/** Serves `app` over HTTPS with the control API's TLS identity (and its renewals). */
export function listenTls(
  app: RequestListener,
  host: string,
  port: number,
  tls: ControlTls,
  limits: Readonly<RequestTimeLimits> = CONTROL_REQUEST_TIME_LIMITS,
): Promise<Server> {
  const server = createServer({ ...tls.serverOptions(), connectionsCheckingInterval: limits.checkEveryMs }, app);
  server.headersTimeout = limits.headersMs;
  server.requestTimeout = limits.requestMs;
  tls.attach(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

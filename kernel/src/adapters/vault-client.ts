import nodeVault from 'node-vault';
import { FleetError } from '../domain/fleet-error.ts';

export type VaultClient = nodeVault.client;

export interface VaultClientOptions {
  endpoint: string;
  /** Empty for a client that authenticates per request (the agent before unwrapping). */
  token?: string;
  timeoutMs?: number;
  /**
   * PEM of the CA(s) Vault's TLS certificate must chain to: the fleet CA for the embedded store, a real
   * Vault's own CA (VAULT_CACERT). Undefined trusts Node's root store. Verification is never switched off.
   */
  caPem?: string;
}

/** How long an idle connection to Vault stays open for the next call. */
const IDLE_CONNECTION_MS = 60_000;

/**
 * A node-vault client that never falls back to VAULT_ADDR/VAULT_TOKEN from the environment (nor skips TLS
 * verification for VAULT_SKIP_VERIFY), never logs request bodies through `debug`, verifies Vault against
 * `caPem` when given, keeps its connections alive between calls, and lists with `GET ?list=true` (Node's
 * HTTP parser has no LIST).
 */
export function createVaultClient(options: VaultClientOptions): VaultClient {
  const client = nodeVault({
    endpoint: options.endpoint,
    noCustomHTTPVerbs: true,
    debug: () => undefined,
    requestOptions: {
      timeout: options.timeoutMs ?? 10_000,
      strictSSL: true,
      ...(options.caPem === undefined ? {} : { ca: options.caPem }),
      // Each call would otherwise open its own TLS connection: a handshake per call, which costs the kill
      // switch's lockdown and an agent's start under its CPU quota most of a Vault round trip. Idle
      // connections close after a minute, or a second before the server's announced keep-alive timeout
      // (Node's agent honours the hint only when it has a timeout of its own); Vault's own is five minutes.
      agentOptions: { keepAlive: true, timeout: IDLE_CONNECTION_MS },
    },
  });
  client.token = options.token ?? '';
  return client;
}

export function vaultStatusOf(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: unknown } } | null)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Translates a node-vault failure into a FleetError; the message names the action, never a value. */
export function translateVaultError(error: unknown, action: string): FleetError {
  if (error instanceof FleetError) return error;
  const status = vaultStatusOf(error);
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const message = `vault: ${action} failed${status ? ` (${status})` : ''}: ${detail}`;
  if (status === 403) return new FleetError('forbidden', message, { cause: error });
  if (status === 404) return new FleetError('not_found', message, { cause: error });
  if (status === 400 || status === 405 || status === 413)
    return new FleetError('invalid_input', message, { cause: error });
  if (status === 429 || (status !== undefined && status >= 500))
    return new FleetError('unavailable', message, { retryable: true, cause: error });
  return new FleetError('unavailable', message, { retryable: true, cause: error });
}

import { unlink } from 'node:fs/promises';
import { isMissingFile } from '@agent-fleet/kernel/bounded-file-read';
import { AGENT_TLS_SECRET, type AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AGENT_CONFIG_KEY_FIELD } from '@agent-fleet/kernel/sealed-agent-config';
import type { Logger } from '@agent-fleet/kernel/logger';
import { createVaultClient, translateVaultError, type VaultClient } from '@agent-fleet/kernel/vault-client';
import { readTokenFile } from './vault-token-file.ts';

// Where the agent's TLS identity comes from. Its key is never in the image, the environment or at rest
// in the volume: Docker hands over a single-use wrapping token of a Vault read, Kubernetes has Vault Agent
// render it into the pod's in-memory /vault/secrets.

/** `fleet/data/<id>/tls/agent`, the bundle's KV v2 path (the orchestrator writes it there). */
export function agentTlsSecretPath(clientId: ClientId): string {
  return `fleet/data/${clientId}/${AGENT_TLS_SECRET}`;
}

/** The bundle in a KV v2 read's `data.data`, or null when it is not one. */
export function bundleFromSecretData(data: unknown): AgentTlsBundle | null {
  const fields = data as { certificate?: unknown; private_key?: unknown; ca_certificate?: unknown } | null;
  if (typeof fields?.certificate !== 'string' || typeof fields.private_key !== 'string' || typeof fields.ca_certificate !== 'string') return null;
  return { certificatePem: fields.certificate, privateKeyPem: fields.private_key, caCertificatePem: fields.ca_certificate };
}

/** The bundle currently stored for this agent (read with the agent's own token), or null when none is. */
export async function readStoredTlsBundle(client: VaultClient, clientId: ClientId): Promise<AgentTlsBundle | null> {
  const secret = (await client.read(agentTlsSecretPath(clientId))) as { data?: { data?: unknown } };
  return bundleFromSecretData(secret.data?.data);
}

export { readTlsDirectory } from './agent-tls-directory.ts';

export interface HandoverOptions {
  clientId: ClientId;
  /** The handover file in the volume (AGENT_DATA_DIR/tls.wrap). */
  file: string;
  vaultAddr: string;
  /** VAULT_CACERT's content; undefined trusts Node's root store. */
  caPem?: string | undefined;
  /** Loaded only to warn: the handover is redeemed before the agent listens, where no logger is loaded yet. */
  logger: () => Promise<Logger>;
  /** How long to wait for the file to appear, ms. Default 10 000. */
  waitMs?: number;
}

async function takeHandoverToken(options: HandoverOptions): Promise<string> {
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  for (;;) {
    try {
      const token = await readTokenFile(options.file);
      // Gone from the volume before it is used: a copy of the volume never holds a redeemable token.
      await unlink(options.file).catch(async (error: unknown) =>
        (await options.logger()).warn('could not remove the TLS handover file (read-only volume?); it is single-use', { error }),
      );
      return token;
    } catch (error) {
      if (!isMissingFile(error) || Date.now() >= deadline) {
        throw new FleetError('unavailable', `no TLS handover in ${options.file}: the orchestrator places one before each start`, { cause: error });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What a handover hands over: the TLS bundle, and the key of the config sealed beside it (null: none sealed). */
export interface RedeemedHandover {
  bundle: AgentTlsBundle;
  configKey: string | null;
}

/**
 * Docker: redeems the orchestrator's handover. The wrap must have been made by a read of this client's
 * bundle path (anything else is refused before unwrapping); unwrapping consumes it, so a stolen copy
 * redeemed first makes this fail loudly instead of two parties sharing the key.
 */
export async function redeemTlsHandover(options: HandoverOptions): Promise<RedeemedHandover> {
  const token = await takeHandoverToken(options);
  const client = createVaultClient({ endpoint: options.vaultAddr, ...(options.caPem === undefined ? {} : { caPem: options.caPem }) });
  const expected = agentTlsSecretPath(options.clientId);
  let lookup: { data?: { creation_path?: unknown } };
  try {
    lookup = (await client.write('sys/wrapping/lookup', { token })) as typeof lookup;
  } catch (error) {
    throw translateVaultError(error, 'look up the TLS handover');
  }
  if (lookup.data?.creation_path !== expected) {
    throw new FleetError('integrity', `the TLS handover was not made by a read of ${expected} (got ${JSON.stringify(lookup.data?.creation_path)}); refusing it`);
  }
  let unwrapped: { data?: { data?: unknown } };
  try {
    unwrapped = (await client.write('sys/wrapping/unwrap', {}, { headers: { 'X-Vault-Token': token } })) as typeof unwrapped;
  } catch (error) {
    throw translateVaultError(error, 'unwrap the TLS handover');
  }
  const bundle = bundleFromSecretData(unwrapped.data?.data);
  if (bundle === null) throw new FleetError('integrity', 'the TLS handover did not hold a certificate, key and CA');
  const configKey = (unwrapped.data?.data as Record<string, unknown>)[AGENT_CONFIG_KEY_FIELD];
  return { bundle, configKey: typeof configKey === 'string' ? configKey : null };
}

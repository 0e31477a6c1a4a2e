import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import { TRANSIT_MOUNT, vaultNames } from './client-policy.ts';
import { translateVaultError, vaultStatusOf, type VaultClient } from './vault-client.ts';

const WRAPPED_PATTERN = /^vault:v\d+:[A-Za-z0-9+/=]+$/;

export interface VaultKeyWrapperOptions {
  /** node-vault client holding the orchestrator's own token (the one VaultSecretStore uses). */
  client: VaultClient;
  logger: Logger;
}

/**
 * KeyWrapper over Vault's transit engine (HashiCorp Vault, OpenBao or the embedded store): data keys are
 * encrypted under the client's transit key `fleet-<id>`, the key VaultSecretStore creates in
 * `ensureClient` and deletes in `removeClient`. Deleting it is what shreds every wrapped data key.
 */
export class VaultKeyWrapper implements KeyWrapper {
  private readonly client: VaultClient;
  private readonly logger: Logger;

  constructor(options: VaultKeyWrapperOptions) {
    this.client = options.client;
    this.logger = options.logger.child({ component: 'vault-key-wrapper' });
  }

  async wrapKey(clientId: ClientId, dataKey: Uint8Array): Promise<string> {
    const name = vaultNames(clientId).transitKey;
    // transit/encrypt creates a missing key: an erased client must not silently get a new one.
    try {
      await this.client.read(`${TRANSIT_MOUNT}/keys/${name}`);
    } catch (error) {
      if (vaultStatusOf(error) === 404)
        throw new FleetError(
          'not_found',
          `client ${clientId} has no data key (never provisioned, or erased)`,
        );
      throw translateVaultError(error, 'read data key');
    }
    this.logger.debug('vault call', { action: 'wrap data key', client: clientId });
    let response: { data?: { ciphertext?: unknown } };
    try {
      response = (await this.client.write(`${TRANSIT_MOUNT}/encrypt/${name}`, {
        plaintext: Buffer.from(dataKey).toString('base64'),
      })) as typeof response;
    } catch (error) {
      throw translateVaultError(error, 'wrap data key');
    }
    const ciphertext = response.data?.ciphertext;
    if (typeof ciphertext !== 'string' || !WRAPPED_PATTERN.test(ciphertext))
      throw new FleetError('internal', 'vault did not return a transit ciphertext');
    return ciphertext;
  }

  async unwrapKey(clientId: ClientId, wrapped: string): Promise<Buffer> {
    if (!WRAPPED_PATTERN.test(wrapped))
      throw new FleetError('integrity', 'wrapped data key is not a vault transit ciphertext');
    this.logger.debug('vault call', { action: 'unwrap data key', client: clientId });
    let response: { data?: { plaintext?: unknown } };
    try {
      response = (await this.client.write(`${TRANSIT_MOUNT}/decrypt/${vaultNames(clientId).transitKey}`, {
        ciphertext: wrapped,
      })) as typeof response;
    } catch (error) {
      // Vault answers 400 for a missing key, a foreign key's ciphertext and a failed authentication alike.
      if (vaultStatusOf(error) === 400)
        throw new FleetError(
          'integrity',
          `client ${clientId}'s key cannot unwrap this data key (another client's key, altered, or the key was destroyed)`,
          { cause: error },
        );
      throw translateVaultError(error, 'unwrap data key');
    }
    const plaintext = response.data?.plaintext;
    if (typeof plaintext !== 'string') throw new FleetError('internal', 'vault did not return a plaintext');
    return Buffer.from(plaintext, 'base64');
  }
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { KeyWrapper } from '../../orchestrator/src/ports/key-wrapper.ts';

/**
 * The KeyWrapper port in memory, for unit tests of what encrypts under a client's key: one AES-256-GCM
 * key per client, wrapped forms shaped like Vault transit's, and the port's failures (no key: not_found
 * on wrap; another client's, altered or destroyed: integrity on unwrap). The real adapters have contract tests.
 */
export class MemoryKeyWrapper implements KeyWrapper {
  readonly #keys = new Map<string, Buffer>();

  constructor(clients: readonly ClientId[] = []) {
    for (const clientId of clients) this.#keys.set(clientId, randomBytes(32));
  }

  destroy(clientId: ClientId): void {
    this.#keys.delete(clientId);
  }

  wrapKey(clientId: ClientId, dataKey: Uint8Array): Promise<string> {
    const key = this.#keys.get(clientId);
    if (key === undefined) return Promise.reject(new FleetError('not_found', `client ${clientId} has no data key`));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Promise.resolve(`vault:v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`);
  }

  unwrapKey(clientId: ClientId, wrapped: string): Promise<Buffer> {
    const key = this.#keys.get(clientId);
    const raw = Buffer.from(wrapped.replace(/^vault:v1:/, ''), 'base64');
    try {
      if (key === undefined) throw new Error('no key');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Promise.resolve(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]));
    } catch (error) {
      return Promise.reject(new FleetError('integrity', `client ${clientId}'s key cannot unwrap this data key`, { cause: error }));
    }
  }
}

import type { ClientId } from '@agent-fleet/kernel/client-id';

/**
 * Envelope encryption's outer layer: a data key is wrapped under the client's own key, which never leaves
 * the secret store. Destroying the client's key makes every wrapped data key, and so every ciphertext
 * under it (backups included), unreadable: that is crypto-shredding.
 */
export interface KeyWrapper {
  /**
   * Wraps `dataKey` under the client's key and returns the opaque wrapped form to store beside the data.
   * Fails with `not_found` when the client has no key (never provisioned, or erased): it never creates one.
   */
  wrapKey(clientId: ClientId, dataKey: Uint8Array): Promise<string>;
  /**
   * Unwraps a data key wrapped by `wrapKey` for the same client. A wrapped key made under another client's
   * key, a destroyed key or an altered wrapped form fails with `integrity`.
   */
  unwrapKey(clientId: ClientId, wrapped: string): Promise<Buffer>;
}

import { hkdfSync } from 'node:crypto';
import { seal, unseal } from '../../portal/crypto/sealed-box.ts';

/** The columns of a client's row that hold its configuration and its people. */
export type SealedClientField = 'config_yaml' | 'admins';

/** How every sealed value starts (the sealed-box format), for SQL that tells sealed rows from plaintext ones. */
export const SEALED_PREFIX = 'ps1.';

/**
 * AES-256-GCM for the client's configuration in the registry (the YAML with its block lists and contacts,
 * and the admins' addresses): the spec wants configuration encrypted at rest, and the registry may be an
 * outside PostgreSQL whose dumps and backups leave our hands. Each value is bound to its client and column
 * (a value copied into another row does not open). The key is not in the database.
 */
export interface ClientFieldSealer {
  seal(clientId: string, field: SealedClientField, value: string): string;
  /** The plaintext of a stored value; a value written before sealing (no `ps1.` prefix) is returned as it is. */
  open(clientId: string, field: SealedClientField, stored: string): string;
  isSealed(stored: string): boolean;
}

/** A sealer under a key derived from the master key (`<home>/registry-key/master.key`, kept apart from the database). */
export function clientFieldSealer(masterKey: Buffer): ClientFieldSealer {
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'agent-fleet registry client fields', 32));
  const purpose = (clientId: string, field: SealedClientField) => `registry:clients:${clientId}:${field}`;
  const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);
  return {
    seal: (clientId, field, value) => seal(key, value, purpose(clientId, field)),
    open: (clientId, field, stored) => (isSealed(stored) ? unseal(key, stored, purpose(clientId, field)).toString('utf8') : stored),
    isSealed,
  };
}

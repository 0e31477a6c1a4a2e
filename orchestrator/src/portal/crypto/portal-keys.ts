import { hkdfSync } from 'node:crypto';
import { loadOrCreateMasterKey } from '../../adapters/embedded-vault/encrypted-file-store.ts';

/** Keys for separate jobs, each derived from the one portal key file, so that none can stand in for another. */
export interface PortalKeys {
  /** Seals admin credentials (TOTP secrets, passkey public keys) in the registry. */
  credentials: Buffer;
  /** Seals the fleet CA's private key on disk. */
  caKey: Buffer;
  /** Signs one-tap approval links. */
  links: Buffer;
  /** Derives each session's CSRF token. */
  csrf: Buffer;
}

export function derivePortalKeys(master: Buffer): PortalKeys {
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `agent-fleet portal ${purpose}`, 32));
  return {
    credentials: derive('credentials'),
    caKey: derive('fleet-ca-key'),
    links: derive('links'),
    csrf: derive('csrf'),
  };
}

/**
 * The portal key is a file (`<dataDir>/master.key`, 32 random bytes, 0600 in a 0700 directory) created at
 * first start and refused when others can read it; it is never logged. Keeping it beside the registry but
 * outside it means a copy of the database alone opens no credential and signs no link.
 */
export async function loadPortalKeys(dataDir: string): Promise<PortalKeys> {
  return derivePortalKeys(await loadOrCreateMasterKey(dataDir));
}

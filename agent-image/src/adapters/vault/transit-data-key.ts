import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { VaultClient } from '@agent-fleet/kernel/vault-client';
import { readWrappedKey, writeWrappedKey } from './wrapped-key-file.ts';

const TRANSIT_MOUNT = 'transit';

/** Runs one Vault call the way the secret source does (revocation noticed, errors translated). */
export type VaultCall = <T>(action: string, run: () => Promise<T>) => Promise<T>;

/**
 * The volume's data key: created by Vault transit on first use (its wrapped form stored in `wrappedKeyFile`),
 * decrypted by transit afterwards. The plaintext key never leaves memory.
 */
export async function loadTransitDataKey(
  call: VaultCall,
  client: VaultClient,
  keyName: string,
  wrappedKeyFile: string,
): Promise<Buffer> {
  const wrapped = await readWrappedKey(wrappedKeyFile);
  if (wrapped === null) {
    const created = (await call('create data key', () =>
      client.write(`${TRANSIT_MOUNT}/datakey/plaintext/${keyName}`, {}),
    )) as {
      data?: { plaintext?: unknown; ciphertext?: unknown };
    };
    if (typeof created.data?.plaintext !== 'string' || typeof created.data.ciphertext !== 'string')
      throw new FleetError('internal', 'vault returned no data key');
    await writeWrappedKey(wrappedKeyFile, created.data.ciphertext);
    return Buffer.from(created.data.plaintext, 'base64');
  }
  const opened = (await call('decrypt data key', () =>
    client.write(`${TRANSIT_MOUNT}/decrypt/${keyName}`, { ciphertext: wrapped }),
  )) as {
    data?: { plaintext?: unknown };
  };
  if (typeof opened.data?.plaintext !== 'string')
    throw new FleetError('internal', 'vault returned no data key');
  const key = Buffer.from(opened.data.plaintext, 'base64');
  try {
    // After a rotation the stored key is re-wrapped under the newest key version; the data key itself is unchanged.
    const rewrapped = (await call('rewrap data key', () =>
      client.write(`${TRANSIT_MOUNT}/rewrap/${keyName}`, { ciphertext: wrapped }),
    )) as {
      data?: { ciphertext?: unknown };
    };
    const ciphertext = rewrapped.data?.ciphertext;
    if (typeof ciphertext === 'string' && ciphertext.split(':')[1] !== wrapped.split(':')[1])
      await writeWrappedKey(wrappedKeyFile, ciphertext);
  } catch (error) {
    key.fill(0);
    throw error;
  }
  return key;
}

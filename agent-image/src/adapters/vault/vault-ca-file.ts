import { readBoundedTextFile } from '@agent-fleet/kernel/bounded-file-read';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** Room for a large CA bundle (a whole public root store is about 250 KiB). */
export const MAX_VAULT_CA_FILE_BYTES = 1024 * 1024;

/**
 * The PEM text of VAULT_CACERT (the fleet CA placed in the volume, or a real Vault's CA in a ConfigMap
 * mount): a regular file after links, of bounded size, holding a certificate; refused by name otherwise.
 */
export async function readVaultCaFile(file: string): Promise<string> {
  const what = `Vault's CA certificate ${file} (VAULT_CACERT)`;
  const pem = await readBoundedTextFile(file, { maxBytes: MAX_VAULT_CA_FILE_BYTES, what });
  // Without a certificate every TLS handshake with Vault would fail later as "unable to get local issuer certificate".
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new FleetError('invalid_input', `${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return pem;
}

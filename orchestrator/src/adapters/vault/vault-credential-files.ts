import { readBoundedTextFile } from '@agent-fleet/kernel/bounded-file-read';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

// The files an external Vault is reached with: the orchestrator's token (VAULT_TOKEN_FILE) and the CA of
// Vault's TLS (VAULT_CACERT). Both are links in a Kubernetes Secret or ConfigMap mount, so links are
// followed; what they lead to must be a regular file of bounded size.

/** A Vault token is about a hundred characters; a file far larger holds something else. */
export const MAX_VAULT_TOKEN_FILE_BYTES = 4096;
/** Room for a large CA bundle (a whole public root store is about 250 KiB). */
export const MAX_VAULT_CA_FILE_BYTES = 1024 * 1024;

/** The one token VAULT_TOKEN_FILE holds (surrounding white space ignored); refused by name otherwise. */
export async function readVaultTokenFile(file: string): Promise<string> {
  const token = (await readSettingFile(file, 'VAULT_TOKEN_FILE', MAX_VAULT_TOKEN_FILE_BYTES)).trim();
  if (token === '') throw new FleetError('invalid_input', `the Vault token file ${file} (VAULT_TOKEN_FILE) is empty: write the orchestrator's Vault token into it`);
  // The token goes into a request header: a second word, a control character or non-ASCII text is never part of one.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new FleetError('invalid_input', `the Vault token file ${file} (VAULT_TOKEN_FILE) does not hold one token: it must hold the token alone, in printable ASCII`);
  }
  return token;
}

/** The PEM text of VAULT_CACERT; refused by name when it holds no certificate. */
export async function readVaultCaFile(file: string): Promise<string> {
  const pem = await readSettingFile(file, 'VAULT_CACERT', MAX_VAULT_CA_FILE_BYTES);
  // Without a certificate every TLS handshake with Vault would fail later as "unable to get local issuer certificate".
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new FleetError('invalid_input', `Vault's CA certificate ${file} (VAULT_CACERT) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

/** The UTF-8 text of the file a setting names, refused by name when it is no regular file of at most `maxBytes`. */
function readSettingFile(file: string, setting: string, maxBytes: number): Promise<string> {
  return readBoundedTextFile(file, { maxBytes, what: `${file} (${setting})` });
}

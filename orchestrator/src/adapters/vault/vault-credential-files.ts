import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
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

/**
 * The UTF-8 text of the file a setting names, read no further than `maxBytes`: opened without blocking so
 * a FIFO cannot hang the start, and refused when it is not a regular file (a device such as /dev/zero
 * would feed it without end), too large or not UTF-8. A file that cannot be opened is `unavailable`.
 */
async function readSettingFile(file: string, setting: string, maxBytes: number): Promise<string> {
  const what = `${file} (${setting})`;
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new FleetError('unavailable', `cannot read ${what}: ${(error as Error).message}`, { cause: error });
  }
  try {
    if (!(await handle.stat()).isFile()) throw new FleetError('invalid_input', `${what} is not a regular file`);
    // One byte past the limit rather than trusting the size stat gave: the file may grow meanwhile.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= maxBytes; length += read) {
      read = (await handle.read(buffer, length, maxBytes + 1 - length, length)).bytesRead;
    }
    if (length > maxBytes) throw new FleetError('invalid_input', `${what} is larger than ${maxBytes} bytes`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch (error) {
      throw new FleetError('invalid_input', `${what} is not UTF-8 text`, { cause: error });
    }
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError('unavailable', `cannot read ${what}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}

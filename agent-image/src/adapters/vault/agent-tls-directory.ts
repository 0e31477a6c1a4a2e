import path from 'node:path';
import type { AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import { isMissingFile, readBoundedTextFile } from '@agent-fleet/kernel/bounded-file-read';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

// Apart from agent-tls-bundle.ts so that an agent reading its identity from a directory starts without
// loading the Vault client (issue 18: cold start).

/** Room for a long certificate chain or CA bundle (a whole public root store is about 250 KiB). */
export const MAX_TLS_CERTIFICATE_FILE_BYTES = 1024 * 1024;
/** Room for any private key in PEM (an RSA 8192-bit key is under 7 KiB). */
export const MAX_TLS_KEY_FILE_BYTES = 64 * 1024;

/** Kubernetes: tls.crt, tls.key and ca.crt in `dir`, each a regular file (links followed) of bounded size. */
export async function readTlsDirectory(dir: string): Promise<AgentTlsBundle> {
  const read = async (name: string, maxBytes: number): Promise<string> => {
    const file = path.join(dir, name);
    try {
      return await readBoundedTextFile(file, { maxBytes, what: `the agent's TLS identity file ${file}` });
    } catch (error) {
      if (!isMissingFile(error)) throw error;
      throw new FleetError('unavailable', `the TLS identity in ${dir} is incomplete (tls.crt, tls.key, ca.crt): ${name} is missing`, { cause: error });
    }
  };
  const [certificatePem, privateKeyPem, caCertificatePem] = await Promise.all([
    read('tls.crt', MAX_TLS_CERTIFICATE_FILE_BYTES),
    read('tls.key', MAX_TLS_KEY_FILE_BYTES),
    read('ca.crt', MAX_TLS_CERTIFICATE_FILE_BYTES),
  ]);
  return { certificatePem, privateKeyPem, caCertificatePem };
}

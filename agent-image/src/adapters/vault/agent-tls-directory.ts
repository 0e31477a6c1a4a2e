import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

// Apart from agent-tls-bundle.ts so that an agent reading its identity from a directory starts without
// loading the Vault client (issue 18: cold start).

/** Kubernetes: tls.crt, tls.key and ca.crt in `dir`. */
export async function readTlsDirectory(dir: string): Promise<AgentTlsBundle> {
  const [certificatePem, privateKeyPem, caCertificatePem] = await Promise.all(
    ['tls.crt', 'tls.key', 'ca.crt'].map((name) => readFile(path.join(dir, name), 'utf8')),
  ).catch((error: unknown) => {
    throw new FleetError('unavailable', `the TLS identity in ${dir} is incomplete (tls.crt, tls.key, ca.crt)`, { cause: error });
  });
  return { certificatePem: certificatePem ?? '', privateKeyPem: privateKeyPem ?? '', caCertificatePem: caCertificatePem ?? '' };
}

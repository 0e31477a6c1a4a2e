import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { ClientId } from './client-id.ts';
import { FleetError } from './fleet-error.ts';

/** The URI SAN that names a client's agent: `spiffe://agent-fleet/client/<id>`. */
export const AGENT_URI_PREFIX = 'spiffe://agent-fleet/client/';
/** The DNS SAN that names a client's agent: `<id>.agents.fleet.internal` (never resolved; a name only). */
export const AGENT_DNS_SUFFIX = '.agents.fleet.internal';
/**
 * Where an agent's TLS bundle lives in its client's KV path (`fleet/data/<id>/tls/agent`): a sub-path, so
 * that it is neither one of the client's secrets (`fleet secrets list`) nor read as one by the agent.
 */
export const AGENT_TLS_SECRET = 'tls/agent';
/**
 * Docker: the single-use wrapping token of a read of that bundle, placed in the agent's volume by the
 * orchestrator right before each start; the agent deletes it, then unwraps it. A token only: the bundle
 * itself is never at rest in the volume.
 */
export const AGENT_TLS_HANDOVER_FILE = 'tls.wrap';
/** Docker: the (public) CA certificate the agent verifies Vault's TLS against, placed beside it (VAULT_CACERT). */
export const AGENT_VAULT_CA_FILE = 'vault-ca.pem';

/** An agent's TLS identity as the fleet CA issued it. Holds a private key: never logged, never in env. */
export interface AgentTlsBundle {
  /** The agent's certificate, PEM. */
  certificatePem: string;
  /** Its PKCS#8 private key, PEM. */
  privateKeyPem: string;
  /** The fleet CA's certificate, PEM: what the orchestrator verifies the agent against. */
  caCertificatePem: string;
}

/** The two names the fleet CA puts on a client's agent certificate, and nothing else. */
export function agentCertificateNames(clientId: ClientId): { uri: string; dns: string } {
  return { uri: `${AGENT_URI_PREFIX}${clientId}`, dns: `${clientId}${AGENT_DNS_SUFFIX}` };
}

/**
 * The client ids an X.509 subjectAltName (Node's `cert.subjectAltName` / `subjectaltname` text, e.g.
 * `URI:spiffe://agent-fleet/client/acme, DNS:acme.agents.fleet.internal`) names as agents, in either form.
 */
export function agentClientIdsNamed(subjectAltName: string | undefined): string[] {
  const named = new Set<string>();
  for (const raw of (subjectAltName ?? '').split(/,\s*/)) {
    const entry = raw.trim().replace(/^(URI|DNS):"(.*)"$/, '$1:$2');
    if (entry.startsWith(`URI:${AGENT_URI_PREFIX}`)) named.add(entry.slice(`URI:${AGENT_URI_PREFIX}`.length));
    else if (entry.startsWith('DNS:') && entry.endsWith(AGENT_DNS_SUFFIX)) named.add(entry.slice(4, -AGENT_DNS_SUFFIX.length));
  }
  return [...named];
}

/**
 * Why a certificate's subjectAltName does not identify exactly this client's agent, or null when it does:
 * it must name the expected client (URI or DNS form) and no other client.
 */
export function agentIdentityMismatch(subjectAltName: string | undefined, expected: ClientId): string | null {
  const named = agentClientIdsNamed(subjectAltName);
  if (named.length === 0) return `the certificate names no agent (expected ${expected})`;
  const others = named.filter((id) => id !== expected);
  if (others.length > 0) return `the certificate names the agent of ${others.join(', ')}, not ${expected}`;
  return null;
}

/**
 * Checks a bundle before an agent serves with it: the certificate names exactly this client, is signed by
 * the bundle's CA, is valid now, and belongs to the private key. Throws `integrity` otherwise.
 */
export function checkAgentTlsBundle(bundle: AgentTlsBundle, clientId: ClientId, now: Date): void {
  let certificate: X509Certificate;
  let ca: X509Certificate;
  try {
    certificate = new X509Certificate(bundle.certificatePem);
    ca = new X509Certificate(bundle.caCertificatePem);
  } catch (error) {
    throw new FleetError('integrity', 'the TLS bundle does not hold a readable certificate and CA', { cause: error });
  }
  const mismatch = agentIdentityMismatch(certificate.subjectAltName, clientId);
  if (mismatch !== null) throw new FleetError('integrity', `refusing this TLS bundle: ${mismatch}`);
  if (!ca.ca || !certificate.verify(ca.publicKey)) {
    throw new FleetError('integrity', 'refusing this TLS bundle: the certificate is not signed by its fleet CA');
  }
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
    throw new FleetError('integrity', `refusing this TLS bundle: the certificate is valid ${certificate.validFrom} to ${certificate.validTo}`);
  }
  let matches = false;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(bundle.privateKeyPem));
  } catch (error) {
    throw new FleetError('integrity', 'refusing this TLS bundle: its private key is unreadable', { cause: error });
  }
  if (!matches) throw new FleetError('integrity', 'refusing this TLS bundle: the private key is not the certificate’s');
}

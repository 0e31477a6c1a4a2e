import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import { agentCertificateNames, agentIdentityMismatch } from '@agent-fleet/kernel/agent-identity';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** The agents' control APIs speak TLS 1.3 only. */
const TLS_13_ONLY = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/** A keep-alive HTTPS agent that trusts the fleet CA and nothing else. */
export function fleetCaAgent(caPem: string): Agent {
  return new Agent({ ca: caPem, keepAlive: true, ...TLS_13_ONLY });
}

function splitAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!match) throw new FleetError('invalid_input', `invalid agent address ${JSON.stringify(address)}: expected host:port`);
  return { host: match[1] ?? '', port: Number(match[2]) };
}

export interface AgentRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/**
 * One HTTPS request to client `clientId`'s agent at `address`: the chain must lead to the fleet CA and the
 * certificate must name exactly that client (a certificate of another client's agent is refused with an
 * `integrity` error, whatever the address). The server name sent is the agent's DNS name, which also
 * keeps pooled connections apart per expected client.
 */
export function agentRequest(agent: Agent, clientId: ClientId, address: string, init: AgentRequest): Promise<IncomingMessage> {
  const { host, port } = splitAddress(address);
  let mismatch: string | null = null;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host,
        port,
        method: init.method,
        path: init.path,
        headers: init.headers ?? {},
        agent,
        servername: agentCertificateNames(clientId).dns,
        checkServerIdentity: (_name: string, certificate: PeerCertificate) => {
          mismatch = agentIdentityMismatch(certificate.subjectaltname, clientId);
          return mismatch === null ? undefined : new Error(mismatch);
        },
        ...(init.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(init.timeoutMs) }),
      },
      resolve,
    );
    outgoing.once('error', (error) => {
      reject(
        mismatch === null
          ? error
          : new FleetError('integrity', `the agent at ${address} is refused: ${mismatch}`, { cause: error }),
      );
    });
    outgoing.end(init.body);
  });
}

/** The whole response body as text. */
export async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

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
  /** The whole call, answer and body, in ms. */
  timeoutMs?: number;
  /** Ends the call (and its socket) when aborted, whatever its stage. */
  signal?: AbortSignal;
}

function callSignal(init: AgentRequest): { signal?: AbortSignal } {
  const signals = [...(init.timeoutMs === undefined ? [] : [AbortSignal.timeout(init.timeoutMs)]), ...(init.signal === undefined ? [] : [init.signal])];
  if (signals.length === 0) return {};
  return { signal: signals.length === 1 ? (signals[0] as AbortSignal) : AbortSignal.any(signals) };
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
        ...callSignal(init),
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

/**
 * Most an agent's JSON answer (or error body) is read into memory, in bytes: its largest lists are far
 * smaller, and an agent runs code that handles untrusted mail, so its answers are bounded like any input.
 */
export const MAX_AGENT_ANSWER_BYTES = 64 * 1024 * 1024;

/** The whole response body as text; refused (and the connection dropped) once it passes `maxBytes`. */
export async function readText(response: IncomingMessage, maxBytes = MAX_AGENT_ANSWER_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      response.destroy();
      throw new FleetError('integrity', `the agent's answer is larger than ${maxBytes} bytes: not read further`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

import { createServer, type Server } from 'node:https';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createEphemeralFleetCa, type FleetCa } from '../../orchestrator/src/adapters/fleet-ca/fleet-ca.ts';
import { agentRequest, fleetCaAgent, readText } from '../../orchestrator/src/adapters/http/agent-https.ts';

let shared: Promise<FleetCa> | null = null;

/** One throwaway fleet CA per test process (in memory only). */
export function testFleetCa(): Promise<FleetCa> {
  shared ??= createEphemeralFleetCa(new Date());
  return shared;
}

/** A certificate for client `clientId`'s agent from the test CA (or the one given). */
export async function agentBundle(clientId: ClientId, ca?: FleetCa): Promise<AgentTlsBundle> {
  return (ca ?? (await testFleetCa())).issueAgentCertificate(clientId, new Date());
}

/** An HTTPS server (TLS 1.3 only) on 127.0.0.1 presenting an agent certificate for `clientId`. */
export async function agentTlsServer(clientId: ClientId, handler: RequestListener, ca?: FleetCa): Promise<{ server: Server; address: string; caPem: string }> {
  const authority = ca ?? (await testFleetCa());
  const bundle = await agentBundle(clientId, authority);
  const server = createServer({ key: bundle.privateKeyPem, cert: bundle.certificatePem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, caPem: authority.certificatePem };
}

const agents = new Map<string, ReturnType<typeof fleetCaAgent>>();

/**
 * One request to client `clientId`'s agent at `address` the way the orchestrator makes it: TLS 1.3, the
 * chain checked against `caPem` and the certificate against the client id.
 */
export async function agentFetch(
  caPem: string,
  clientId: ClientId,
  address: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<CaResponse> {
  let agent = agents.get(caPem);
  if (!agent) {
    agent = fleetCaAgent(caPem);
    agents.set(caPem, agent);
  }
  const { body, ...rest } = init;
  const response = await agentRequest(agent, clientId, address, {
    ...rest,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : body.toString('utf8') }),
    method: init.method ?? 'GET',
    path,
    timeoutMs: 30_000,
  });
  const text = await readText(response);
  return { status: response.statusCode ?? 0, headers: response.headers, text: async () => text, json: async () => JSON.parse(text) as unknown };
}

/** agentFetch, read at once. */
export async function agentCall(
  caPem: string,
  clientId: ClientId,
  address: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  const response = await agentFetch(caPem, clientId, address, path, init);
  return { status: response.status, text: await response.text() };
}

/** What tests read of an HTTPS answer (the part of fetch's Response they use). */
export interface CaResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * `fetch` for a server whose certificate chains to `caPem` (the embedded Vault, the portal), hostname
 * checked as usual. Node's fetch has no CA option; tests never widen the process-wide trust instead.
 */
export async function caFetch(url: string, caPem: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<CaResponse> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ca: caPem, minVersion: 'TLSv1.3' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: async () => body, json: async () => JSON.parse(body) as unknown });
      });
    });
    outgoing.once('error', reject);
    outgoing.end(init.body);
  });
}

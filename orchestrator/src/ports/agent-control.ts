import type { ClientId } from '@agent-fleet/kernel/client-id';

/** What the orchestrator hands the agent at introduction: a single-use wrap, never a usable secret. */
export interface IntroductionPayload {
  wrappingToken: string;
  vaultAddr: string;
  creationPath: string;
}

/**
 * The agent's control API (agent-image/CONTROL-API.md), as the orchestrator calls it. Every call names the
 * client whose agent is meant: the adapter talks only to an agent whose certificate names that client.
 */
export interface AgentControl {
  /** Hands over the wrapping token; the agent unwraps it itself. */
  introduce(clientId: ClientId, controlAddress: string, payload: IntroductionPayload): Promise<void>;
  /** Resolves once `/readyz` answers 200; rejects after the timeout with the agent's last reason. */
  waitReady(clientId: ClientId, controlAddress: string, timeoutMs: number): Promise<void>;
  /** An authenticated JSON call; `controlToken` is the client's control token. */
  request<T>(
    clientId: ClientId,
    controlAddress: string,
    controlToken: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<T>;
  /** An authenticated call whose raw response body is streamed to `sink` (audit export). */
  stream(clientId: ClientId, controlAddress: string, controlToken: string, path: string, sink: NodeJS.WritableStream): Promise<void>;
}

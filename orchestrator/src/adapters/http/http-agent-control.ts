import type { Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { fleetErrorFromResponse } from '@agent-fleet/kernel/error-status';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentControl, IntroductionPayload } from '../../ports/agent-control.ts';
import { agentRequest, fleetCaAgent, readText, type AgentRequest } from './agent-https.ts';
import { StallGuard, type AgentStall } from './stall-guard.ts';

const READY_POLL_FIRST_MS = 10;
const READY_POLL_MAX_MS = 100;
/** A streamed call's wait for the agent's answer to begin, in ms. */
export const DEFAULT_STREAM_ANSWER_TIMEOUT_MS = 60_000;
/** Longest a streamed body may stand still, in ms: the agent sends nothing, or the caller takes nothing. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;

/** Limits of `stream`: the answer's start, and a body that stands still. */
export interface StreamLimits {
  answerTimeoutMs: number;
  idleTimeoutMs: number;
}

/** The least an introduction is given: the agent logs in to Vault and checks its mailbox before it answers. */
export const MIN_INTRODUCTION_TIMEOUT_MS = 15_000;

/**
 * The introduction's wait follows the agent health timeout the operator configured: a host loaded enough
 * to need a longer health wait answers the introduction slowly too, and a provisioning failed there is
 * rolled back, the agent's tokens revoked.
 */
export function introductionTimeoutMs(healthTimeoutMs: number): number {
  return Math.max(MIN_INTRODUCTION_TIMEOUT_MS, healthTimeoutMs);
}

/** The pauses between readiness asks: soon after the introduction, then less and less often. */
export function readyPollIntervalMs(ask: number): number {
  return Math.min(READY_POLL_MAX_MS, READY_POLL_FIRST_MS * 1.5 ** ask);
}

/** The agent's `{ code, message }` error turned back into the FleetError it raised, code and all. */
async function failure(response: IncomingMessage, what: string): Promise<FleetError> {
  let body: unknown = null;
  try {
    body = JSON.parse(await readText(response));
  } catch {
    // not JSON: the status decides the code
  }
  return fleetErrorFromResponse(response.statusCode ?? 500, body, what);
}

function unreachable(error: unknown, what: string): FleetError {
  // An agent whose certificate names another client is not "unreachable": that refusal stands as it is.
  if (isFleetError(error)) return error;
  if (error instanceof Error && error.name === 'AbortError' && isFleetError(error.cause)) return error.cause;
  return new FleetError('unavailable', `${what}: agent unreachable (${(error as Error).message})`, { cause: error, retryable: true });
}

/**
 * The agent's control API over HTTPS (TLS 1.3) on its control port, verified against the fleet CA and
 * against the client the caller means (see agentRequest).
 */
export class HttpAgentControl implements AgentControl {
  private readonly agent: Agent;
  private readonly introductionTimeoutMs: number;
  private readonly streamLimits: StreamLimits;

  constructor(options: { caPem: string; introductionTimeoutMs?: number; streamLimits?: Partial<StreamLimits> }) {
    this.agent = fleetCaAgent(options.caPem);
    this.introductionTimeoutMs = options.introductionTimeoutMs ?? MIN_INTRODUCTION_TIMEOUT_MS;
    this.streamLimits = {
      answerTimeoutMs: DEFAULT_STREAM_ANSWER_TIMEOUT_MS,
      idleTimeoutMs: DEFAULT_STREAM_IDLE_TIMEOUT_MS,
      ...options.streamLimits,
    };
  }

  private async send(clientId: ClientId, address: string, init: AgentRequest, what: string): Promise<IncomingMessage> {
    let response: IncomingMessage;
    try {
      response = await agentRequest(this.agent, clientId, address, init);
    } catch (error) {
      throw unreachable(error, what);
    }
    if ((response.statusCode ?? 500) >= 400) throw await failure(response, what);
    return response;
  }

  async introduce(clientId: ClientId, controlAddress: string, payload: IntroductionPayload): Promise<void> {
    const response = await this.send(
      clientId,
      controlAddress,
      { method: 'POST', path: '/v1/introduce', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload), timeoutMs: this.introductionTimeoutMs },
      'introduce the agent to Vault',
    );
    response.resume();
  }

  async waitReady(clientId: ClientId, controlAddress: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let reason = 'no answer';
    for (let ask = 0; Date.now() < deadline; ask += 1) {
      try {
        const response = await agentRequest(this.agent, clientId, controlAddress, { method: 'GET', path: '/readyz', timeoutMs: 1000 });
        const text = await readText(response);
        if (response.statusCode === 200) return;
        reason = (JSON.parse(text) as { reason?: string }).reason ?? `status ${response.statusCode}`;
      } catch (error) {
        if (isFleetError(error) && error.code === 'integrity') throw error;
        reason = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, readyPollIntervalMs(ask)));
    }
    throw new FleetError('timeout', `agent at ${controlAddress} not ready within ${Math.round(timeoutMs / 1000)} s: ${reason}`, {
      retryable: true,
    });
  }

  async request<T>(
    clientId: ClientId,
    controlAddress: string,
    controlToken: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs = 10_000,
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${controlToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init: AgentRequest = { method, path, headers, timeoutMs, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
    const response = await this.send(clientId, controlAddress, init, `${method} ${path}`);
    let text: string;
    try {
      text = await readText(response);
    } catch (error) {
      throw unreachable(error, `${method} ${path}`);
    }
    if (response.statusCode === 204) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // The parser's message would quote the answer, which may hold client data: not repeated.
      throw new FleetError('integrity', `${method} ${path}: the agent's answer is not JSON`);
    }
  }

  /**
   * Copies the body to `sink` for as long as it moves. Given up on, and its socket released, when the
   * answer does not begin within the answer limit, when no byte moves for the idle limit (the agent sends
   * nothing, or the sink takes nothing: a caller that stopped waiting), when `sink` is destroyed, or
   * when `options.signal` aborts.
   */
  async stream(
    clientId: ClientId,
    controlAddress: string,
    controlToken: string,
    path: string,
    sink: NodeJS.WritableStream,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const what = `GET ${path}`;
    const guard = new StallGuard(this.streamLimits, (stall, afterMs) => stalled(what, controlAddress, stall, afterMs));
    const signal = options.signal === undefined ? guard.signal : AbortSignal.any([guard.signal, options.signal]);
    try {
      const response = await this.send(clientId, controlAddress, { method: 'GET', path, headers: { authorization: `Bearer ${controlToken}` }, signal }, what);
      guard.touch();
      const moved = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          guard.touch();
          done(null, chunk);
        },
      });
      await pipeline(response, moved, sink, { end: false, signal });
    } catch (error) {
      if (guard.signal.aborted) throw guard.signal.reason as FleetError;
      throw error;
    } finally {
      guard.finish();
    }
  }
}

function stalled(what: string, address: string, stall: AgentStall, afterMs: number): FleetError {
  const seconds = afterMs / 1000;
  const how = stall === 'no-answer' ? `did not answer within ${seconds} s` : `moved no byte for ${seconds} s (the agent sent nothing, or nobody took it)`;
  return new FleetError('timeout', `${what}: the agent at ${address} ${how}`, { retryable: true });
}

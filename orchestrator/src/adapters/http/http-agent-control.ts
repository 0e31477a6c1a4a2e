import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fleetErrorFromResponse } from '@agent-fleet/kernel/error-status';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentControl, IntroductionPayload } from '../../ports/agent-control.ts';

/** The agent's `{ code, message }` error turned back into the FleetError it raised, code and all. */
async function failure(response: Response, what: string): Promise<FleetError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status decides the code
  }
  return fleetErrorFromResponse(response.status, body, what);
}

function unreachable(error: unknown, what: string): FleetError {
  return new FleetError('unavailable', `${what}: agent unreachable (${(error as Error).message})`, { cause: error, retryable: true });
}

/** The agent's control API over HTTP on its 127.0.0.1-published control port. */
export class HttpAgentControl implements AgentControl {
  async introduce(controlAddress: string, payload: IntroductionPayload): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`http://${controlAddress}/v1/introduce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw unreachable(error, 'introduce the agent to Vault');
    }
    if (!response.ok) throw await failure(response, 'introduce the agent to Vault');
    await response.body?.cancel();
  }

  async waitReady(controlAddress: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let reason = 'no answer';
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`http://${controlAddress}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (response.status === 200) {
          await response.body?.cancel();
          return;
        }
        reason = ((await response.json()) as { reason?: string }).reason ?? `status ${response.status}`;
      } catch (error) {
        reason = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new FleetError('timeout', `agent at ${controlAddress} not ready within ${Math.round(timeoutMs / 1000)} s: ${reason}`, {
      retryable: true,
    });
  }

  async request<T>(controlAddress: string, controlToken: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`http://${controlAddress}${path}`, {
        method,
        headers: { authorization: `Bearer ${controlToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw unreachable(error, `${method} ${path}`);
    }
    if (!response.ok) throw await failure(response, `${method} ${path}`);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  async stream(controlAddress: string, controlToken: string, path: string, sink: NodeJS.WritableStream): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`http://${controlAddress}${path}`, { headers: { authorization: `Bearer ${controlToken}` } });
    } catch (error) {
      throw unreachable(error, `GET ${path}`);
    }
    if (!response.ok || !response.body) throw await failure(response, `GET ${path}`);
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), sink, { end: false });
  }
}

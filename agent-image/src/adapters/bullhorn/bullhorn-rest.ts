import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';
import { REST_ANSWER_MAX_BYTES, discard, readBoundedJson } from './bullhorn-answer.ts';
import type { BullhornSession, RestSession } from './bullhorn-session.ts';

export interface RestRequest {
  method: 'GET' | 'PUT' | 'POST';
  /** Path under the restUrl, e.g. `search/ClientContact`. */
  path: string;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
}

/**
 * One Bullhorn REST call with the session's BhRestToken in the header (never the query string, so it
 * stays out of access logs), one re-login after a 401, and Bullhorn's answers turned into our errors.
 * Nothing here retries a 429 or a 5xx: the caller backs off, and writes are made safe to repeat by
 * idempotency keys, not by blind retries.
 */
export class BullhornRest {
  readonly #session: BullhornSession;
  readonly #timeoutMs: number;
  readonly #logger: Logger;

  constructor(session: BullhornSession, options: { timeoutMs?: number; logger: Logger }) {
    this.#session = session;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#logger = options.logger;
  }

  /** The parsed JSON answer. `operation` names the call in errors and logs (never content). */
  async call(operation: string, request: RestRequest): Promise<Record<string, unknown>> {
    let session = await this.#session.current();
    let response = await this.#send(operation, session, request);
    if (response.status === 401) {
      await discard(response);
      this.#logger.debug('bullhorn session refused; logging in again', { op: operation });
      session = await this.#session.renew(session);
      response = await this.#send(operation, session, request);
      if (response.status === 401) {
        await discard(response);
        throw new ProviderAuthError('invalid_token', `bullhorn ${operation}: a fresh session was refused (401)`);
      }
    }
    return this.#read(operation, response);
  }

  async #send(operation: string, session: RestSession, request: RestRequest): Promise<Response> {
    const url = new URL(request.path, session.restUrl);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { BhRestToken: session.token, accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    this.#logger.debug('bullhorn request', { op: operation, method: request.method, path: request.path.split('/').slice(0, 2).join('/') });
    try {
      return await fetch(url, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new FleetError('unavailable', `bullhorn ${operation}: no answer from the server`, { retryable: true, cause: error });
    }
  }

  async #read(operation: string, response: Response): Promise<Record<string, unknown>> {
    const answer = await readAnswer(operation, response, REST_ANSWER_MAX_BYTES);
    if (answer === 'too-large') {
      throw new FleetError('integrity', `bullhorn ${operation}: answer ${response.status} is over ${REST_ANSWER_MAX_BYTES} bytes; not read further`);
    }
    const { body } = answer;
    if (response.ok) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new FleetError('integrity', `bullhorn ${operation}: answer ${response.status} is not a JSON object`);
      }
      return body as Record<string, unknown>;
    }
    throw translateBullhornError(operation, response.status, body, response.headers.get('retry-after'));
  }
}

/** The bounded answer; a connection dropped or timed out mid-answer is the server's failure, worth a retry. */
async function readAnswer(operation: string, response: Response, limit: number): Promise<{ body: unknown } | 'too-large'> {
  try {
    return await readBoundedJson(response, limit);
  } catch (error) {
    throw new FleetError('unavailable', `bullhorn ${operation}: the answer broke off`, { retryable: true, cause: error });
  }
}

/** Bullhorn's `{ errorMessage, errorMessageKey, errorCode }` as one of our errors. */
export function translateBullhornError(operation: string, status: number, body: unknown, retryAfter: string | null): FleetError {
  const detail = describe(body);
  const message = `bullhorn ${operation}: ${status}${detail === '' ? '' : ` (${detail})`}`;
  if (status === 429 || status >= 500) return new ProviderThrottledError(status, parseRetryAfter(retryAfter), message);
  // The API user lacks an entitlement for this entity or field: an admin must grant it in Bullhorn.
  if (status === 403) return new ProviderAuthError('insufficient_scope', message);
  if (status === 404) return new FleetError('not_found', message);
  if (status === 409) return new FleetError('conflict', message);
  if (status === 400) return new FleetError('invalid_input', message);
  // 412: the request carried no BhRestToken at all, which this client never does.
  return new FleetError('internal', message);
}

function describe(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { errorMessageKey, errorMessage } = body as { errorMessageKey?: unknown; errorMessage?: unknown };
  const parts = [errorMessageKey, errorMessage].filter((part): part is string => typeof part === 'string');
  return parts.join(': ').replace(/[\r\n]+/g, ' ').slice(0, 200);
}

import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { graphCallScope } from './graph-call-scope.ts';
import type { GraphTokenSource } from './graph-token-source.ts';

function setHeader(context: Context, name: string, value: string): void {
  context.options ??= {};
  const headers = context.options.headers;
  if (headers instanceof Headers) headers.set(name, value);
  else if (Array.isArray(headers)) context.options.headers = [...headers.filter(([key]) => key.toLowerCase() !== name.toLowerCase()), [name, value]];
  else context.options.headers = { ...(headers as Record<string, string> | undefined), [name]: value };
}

/**
 * Adds the bearer token (only for our configured Graph origin, never for a link to elsewhere), and on
 * a 401 refreshes once and repeats the request once. Throttling is not retried here: the caller gets a
 * typed error with Retry-After and decides.
 */
export class BearerTokenMiddleware implements Middleware {
  readonly #tokens: GraphTokenSource;
  readonly #origin: string;
  #next: Middleware | null = null;

  constructor(tokens: GraphTokenSource, graphOrigin: string) {
    this.#tokens = tokens;
    this.#origin = graphOrigin;
  }

  setNext(next: Middleware): void {
    this.#next = next;
  }

  async execute(context: Context): Promise<void> {
    const next = this.#next;
    if (next === null) throw new FleetError('internal', 'graph middleware chain has no transport');
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    if (new URL(url).origin !== this.#origin) {
      throw new FleetError('forbidden', 'refusing to send the Graph token to another origin');
    }
    setHeader(context, 'Authorization', `Bearer ${await this.#token(false)}`);
    await next.execute(context);
    if (context.response?.status !== 401) return;
    setHeader(context, 'Authorization', `Bearer ${await this.#token(true)}`);
    await next.execute(context);
  }

  async #token(forceRefresh: boolean): Promise<string> {
    try {
      return await this.#tokens.getAccessToken(forceRefresh);
    } catch (error) {
      // Parked for callGraphApi: the SDK would turn a typed `invalid_grant` into "no answer".
      const slot = graphCallScope.getStore();
      if (slot !== undefined) slot.error = error;
      throw error;
    }
  }
}

import { Client, HTTPMessageHandler } from '@microsoft/microsoft-graph-client';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { BearerTokenMiddleware } from './graph-auth-middleware.ts';
import { BoundedResponseMiddleware, GRAPH_TIMEOUT_MS, type DeadlineSignal } from './graph-bounded-response.ts';
import type { GraphTokenSource } from './graph-token-source.ts';

export const GRAPH_VERSION = 'v1.0';

/** A Graph client for one mailbox, and the links it may follow. */
export interface GraphConnection {
  client: Client;
  /** `https://graph.microsoft.com/v1.0` (or the configured origin). */
  root: string;
  /** A link from Graph (nextLink, deltaLink) as a path for the SDK; links anywhere else are refused. */
  relative(link: string): string;
}

/**
 * The Graph client the mail and calendar adapters share the shape of. No RetryHandler: a blind retry of a
 * send or a create could act twice; throttling goes back to the caller, typed. Every exchange ends within
 * `timeoutMs` (default GRAPH_TIMEOUT_MS), body included; `deadlineSignal` is for tests.
 */
export function connectGraph(
  tokens: GraphTokenSource,
  baseUrl = 'https://graph.microsoft.com',
  timeoutMs: number = GRAPH_TIMEOUT_MS,
  deadlineSignal?: DeadlineSignal,
): GraphConnection {
  const origin = new URL(baseUrl).origin;
  const root = `${origin}/${GRAPH_VERSION}`;
  const client = Client.initWithMiddleware({
    middleware: [new BearerTokenMiddleware(tokens, origin), new BoundedResponseMiddleware(timeoutMs, deadlineSignal), new HTTPMessageHandler()],
    baseUrl: `${origin}/`,
    defaultVersion: GRAPH_VERSION,
  });
  return {
    client,
    root,
    relative(link) {
      if (!link.startsWith(`${root}/`)) throw new FleetError('integrity', 'graph link points outside the configured Graph root');
      return link.slice(root.length);
    },
  };
}

import * as z from 'zod';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentControl } from '../ports/agent-control.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { SecretStore } from '../ports/secret-store.ts';

/** A message a client's agent parked for a human: why, and since when. Never its content. */
export interface ReviewQueueEntry {
  messageId: string;
  reason: string;
  /** ISO 8601. */
  since: string;
}

const answerSchema = z.object({
  review: z
    .array(z.object({ messageId: z.string().min(1).max(2000), reason: z.string().min(1).max(64), since: z.string().max(64) }))
    .max(100_000),
});

export interface ReviewQueueDependencies {
  registry: Pick<Registry, 'getClient'>;
  runtime: Pick<ContainerRuntime, 'inspectAgent'>;
  control: Pick<AgentControl, 'request'>;
  secrets: Pick<SecretStore, 'readControlToken'>;
}

/**
 * The review queue of a client's agent (malformed model output, unusable drafts, low confidence,
 * repeated failures), read from its authenticated control API (`GET /v1/review`). The answer is checked
 * before it is passed on: ids, reasons and times only.
 */
export async function listReviewQueue(deps: ReviewQueueDependencies, rawClientId: unknown): Promise<{ clientId: string; review: ReviewQueueEntry[] }> {
  const clientId = parseClientId(rawClientId);
  const record = await deps.registry.getClient(clientId);
  if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
  const state = await deps.runtime.inspectAgent(clientId);
  if (!state?.running || !state.endpoints) {
    throw new FleetError('unavailable', `the agent of ${clientId} is not running (${record.status}); its review queue stays in its volume`);
  }
  const token = await deps.secrets.readControlToken(clientId);
  if (!token) throw new FleetError('internal', `${clientId} has no control token; provision it again`);
  const answer = answerSchema.safeParse(await deps.control.request<unknown>(clientId, state.endpoints.control, token, 'GET', '/v1/review'));
  if (!answer.success) throw new FleetError('integrity', `the agent of ${clientId} answered /v1/review with an unexpected shape`);
  return { clientId, review: answer.data.review };
}

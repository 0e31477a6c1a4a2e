import * as z from 'zod';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentControl } from '../ports/agent-control.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { Registry } from '../ports/registry.ts';
import type { SecretStore } from '../ports/secret-store.ts';

/** A message a client's agent parked for a human: why, since when, whether its one retry is used. Never content. */
export interface ReviewQueueEntry {
  messageId: string;
  reason: string;
  /** ISO 8601. */
  since: string;
  /** The reason of the first park when a human already let the agent try again (no second retry); else null. */
  retriedFrom: string | null;
}

/**
 * An entry as the client's own admins see it: with the sender and the subject line the agent read (as an
 * approval's page shows them), so they can find the email in the mailbox. Client content: never logged.
 */
export interface ClientReviewEntry extends ReviewQueueEntry {
  sender: string | null;
  /** The subject as the agent kept it ('' when the email had none); null when the agent did not record it. */
  subject: string | null;
}

/** What a human can do with a parked message: say it was dealt with, or let the agent try once more. */
export const REVIEW_RESOLUTIONS = ['handled', 'retry'] as const;
export type ReviewResolution = (typeof REVIEW_RESOLUTIONS)[number];

export interface ReviewResolutionResult {
  messageId: string;
  resolution: ReviewResolution;
  /** False when the same resolution had been made already: the agent recorded nothing again. */
  changed: boolean;
}

/** A message id as the agent keeps them: 1 to 2000 characters, no control character. */
export const reviewMessageId = z
  .string()
  .min(1)
  .max(2000)
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'must not hold control characters');

/** The agent keeps a subject line of 200 characters (at most 400 UTF-16 units); anything longer is not its answer. */
const MAX_SUBJECT_UNITS = 1000;

const answerSchema = z.object({
  review: z
    .array(
      z.object({
        messageId: z.string().min(1).max(2000),
        reason: z.string().min(1).max(64),
        since: z.string().max(64),
        // Absent from agents older than the resolution routes.
        retriedFrom: z.string().min(1).max(64).nullable().default(null),
        sender: z.string().max(1000).nullable().default(null),
        // Absent from agents older than subjects, and null for entries they parked before.
        subject: z.string().max(MAX_SUBJECT_UNITS).nullable().default(null),
      }),
    )
    .max(100_000),
  limit: z.number().int().positive().nullable().default(null),
});
const resolvedSchema = z.object({ messageId: z.string().max(2000), resolution: z.enum(REVIEW_RESOLUTIONS), changed: z.boolean() });

export interface ReviewQueueDependencies {
  registry: Pick<Registry, 'getClient' | 'appendOpsLog'>;
  runtime: Pick<ContainerRuntime, 'inspectAgent'>;
  control: Pick<AgentControl, 'request'>;
  secrets: Pick<SecretStore, 'readControlToken'>;
}

export interface ReviewQueue<Entry> {
  clientId: string;
  review: Entry[];
  /** The most entries the agent keeps before the oldest overflows (null from an agent that does not say). */
  limit: number | null;
}

/**
 * The review queue of a client's agent (malformed model output, unusable drafts, low confidence,
 * repeated failures), read from its authenticated control API (`GET /v1/review`). The answer is checked
 * before it is passed on: ids, reasons and times only (the sender and subject are client content: without a
 * support grant ops see none of it, as `fleet approvals list` shows counts and ages only).
 */
export async function listReviewQueue(deps: ReviewQueueDependencies, rawClientId: unknown): Promise<ReviewQueue<ReviewQueueEntry>> {
  const queue = await listClientReviewQueue(deps, rawClientId);
  return { ...queue, review: queue.review.map(({ sender: _sender, subject: _subject, ...entry }) => entry) };
}

/** The review queue with each sender and subject line, for the client's own admins (the portal). */
export async function listClientReviewQueue(deps: ReviewQueueDependencies, rawClientId: unknown): Promise<ReviewQueue<ClientReviewEntry>> {
  const { clientId, address, token } = await reach(deps, rawClientId);
  const answer = answerSchema.safeParse(await deps.control.request<unknown>(clientId, address, token, 'GET', '/v1/review'));
  if (!answer.success) throw new FleetError('integrity', `the agent of ${clientId} answered /v1/review with an unexpected shape`);
  return { clientId, review: answer.data.review, limit: answer.data.limit };
}

export interface ResolveReviewInput {
  messageId: unknown;
  resolution: ReviewResolution;
  /** Who resolved it as the agent records it: the ops member, or the client admin's address. */
  by: string;
  /** Who the ops log names. */
  actor: string;
  via?: 'portal';
}

/**
 * Resolves one parked message in the agent (`POST /v1/review/resolve`, which audits it), then records it
 * in the ops log as `review-handled` / `review-retry`. The agent's not_found and conflict pass through.
 */
export async function resolveReviewEntry(deps: ReviewQueueDependencies, rawClientId: unknown, input: ResolveReviewInput): Promise<ReviewResolutionResult> {
  const messageId = reviewMessageId.safeParse(input.messageId);
  if (!messageId.success) throw new FleetError('invalid_input', 'message id: 1 to 2000 characters, no control characters');
  if (!REVIEW_RESOLUTIONS.includes(input.resolution)) throw new FleetError('invalid_input', 'resolution: handled or retry');
  const { clientId, address, token } = await reach(deps, rawClientId);
  const body = { messageId: messageId.data, resolution: input.resolution, by: input.by, ...(input.via === undefined ? {} : { via: input.via }) };
  const answer = resolvedSchema.safeParse(await deps.control.request<unknown>(clientId, address, token, 'POST', '/v1/review/resolve', body));
  if (!answer.success) throw new FleetError('integrity', `the agent of ${clientId} answered /v1/review/resolve with an unexpected shape`);
  await deps.registry.appendOpsLog({
    actor: input.actor,
    action: `review-${input.resolution}`,
    clientId,
    reason: null,
    outcome: 'success',
    details: { messageId: messageId.data, changed: answer.data.changed, via: input.via ?? 'orchestrator-api' },
  });
  return { messageId: messageId.data, resolution: input.resolution, changed: answer.data.changed };
}

async function reach(deps: ReviewQueueDependencies, rawClientId: unknown): Promise<{ clientId: ClientId; address: string; token: string }> {
  const clientId = parseClientId(rawClientId);
  const record = await deps.registry.getClient(clientId);
  if (!record) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
  const state = await deps.runtime.inspectAgent(clientId);
  if (!state?.running || !state.endpoints) {
    throw new FleetError('unavailable', `the agent of ${clientId} is not running (${record.status}); its review queue stays in its volume`);
  }
  const token = await deps.secrets.readControlToken(clientId);
  if (!token) throw new FleetError('internal', `${clientId} has no control token; provision it again`);
  return { clientId, address: state.endpoints.control, token };
}

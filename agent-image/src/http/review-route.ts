import type express from 'express';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { REVIEW_QUEUE_LIMIT } from '../services/mail-loop/review-queue.ts';
import type { ReviewQueueSource } from '../services/runtime/agent-state-store.ts';
import type { ReviewResolver } from '../services/runtime/control-api.ts';

type Handler = (request: express.Request, response: express.Response) => Promise<void>;

/** The state store keeps message ids of up to 2000 characters; no control character is an id. */
const messageId = z
  .string()
  .min(1)
  .max(2000)
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'must not hold control characters');
const resolveBody = z
  .object({
    messageId,
    resolution: z.enum(['handled', 'retry']),
    by: z.string().trim().min(1).max(200),
    via: z.enum(['orchestrator-api', 'portal']).optional(),
  })
  .strict();

/**
 * `GET /v1/review` (control token required): the messages the agent parked for a human — malformed model
 * output, an unusable draft, low confidence, repeated failures — with the reason, since when and whether a
 * retry was used up, oldest first, and the queue's bound. The sender's address (when read) and the subject
 * line as kept when parked (null when not recorded) are there for the client's own portal, so its admin can
 * find the email in the mailbox; the orchestrator leaves both out of `fleet review list`. Never the body.
 *
 * `POST /v1/review/resolve` `{ messageId, resolution: handled | retry, by, via? }`: a human's resolution
 * (mail-loop/review-queue.ts), audited; answers `{ messageId, resolution, changed }`.
 */
export function mountReviewRoute(
  app: express.Express,
  authenticated: (handler: Handler) => express.RequestHandler,
  source: ReviewQueueSource & ReviewResolver,
): void {
  app.get(
    '/v1/review',
    authenticated(async (_request, response) => {
      response.json({ review: source.reviewQueue(), limit: REVIEW_QUEUE_LIMIT });
    }),
  );
  app.post(
    '/v1/review/resolve',
    authenticated(async (request, response) => {
      const parsed = resolveBody.safeParse(request.body);
      if (!parsed.success) {
        throw new FleetError('invalid_input', parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; '));
      }
      const { via, ...input } = parsed.data;
      response.json(await source.resolveReview(via === undefined ? input : { ...input, via }));
    }),
  );
}

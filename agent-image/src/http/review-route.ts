import type express from 'express';
import type { ReviewQueueSource } from '../services/runtime/agent-state-store.ts';

type Handler = (request: express.Request, response: express.Response) => Promise<void>;

/**
 * `GET /v1/review` (control token required): the messages the agent parked for a human — malformed model
 * output, an unusable draft, low confidence, repeated failures — with the reason and since when, oldest
 * first. No subject, sender or body: the portal and `fleet review list` show what waits, the mailbox
 * shows the message.
 */
export function mountReviewRoute(app: express.Express, authenticated: (handler: Handler) => express.RequestHandler, source: ReviewQueueSource): void {
  app.get(
    '/v1/review',
    authenticated(async (_request, response) => {
      response.json({ review: source.reviewQueue() });
    }),
  );
}

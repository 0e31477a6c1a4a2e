import type express from 'express';
import * as z from 'zod';
import type { ClientViewsSource } from '../services/runtime/client-views.ts';
import { parseInput, type Route } from './route-kit.ts';

const approvalId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/);

/**
 * `GET /v1/approvals/:id`: one approval with the whole draft (recipients, cc, bcc, subject, body), the
 * thread it answers (minimised, each message marked when it is from the correspondent), the gate's
 * reasons and the injection signals of the answered message. For the client's admins, via the portal.
 */
export function mountApprovalDetailRoute(app: express.Express, authenticated: Route, source: ClientViewsSource): void {
  app.get(
    '/v1/approvals/:id',
    authenticated(async (request, response) => {
      const id = parseInput(approvalId, request.params['id']);
      response.json(await source.clientViews().approval(id));
    }),
  );
}

import type express from 'express';
import * as z from 'zod';
import type { ClientViewsSource } from '../services/runtime/client-views.ts';
import { parseInput, type Route } from './route-kit.ts';

const summaryQuery = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD') }).strict();

/** `GET /v1/summary?date=YYYY-MM-DD`: the summary of one local day, built as the emailed summary is. */
export function mountSummaryRoute(app: express.Express, authenticated: Route, source: ClientViewsSource): void {
  app.get(
    '/v1/summary',
    authenticated(async (request, response) => {
      const query = parseInput(summaryQuery, request.query);
      response.json(await source.clientViews().summary(query.date));
    }),
  );
}

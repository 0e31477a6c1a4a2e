import type express from 'express';
import * as z from 'zod';
import type { ClientViewsSource } from '../services/runtime/client-views.ts';
import { parseInput, type Route } from './route-kit.ts';

const MAX_LIMIT = 500;
const actionType = z.string().regex(/^[a-z_]{1,64}$/, 'must be an action type such as email_send');
const recordsQuery = z
  .object({
    type: z
      .union([actionType, z.array(actionType).max(32)])
      .optional()
      .transform((value) => (value === undefined ? [] : [value].flat())),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100),
  })
  .strict();

/**
 * `GET /v1/audit/records?type=…&since=…&until=…&limit=…`: the newest `limit` (at most 500) records of the
 * range, newest first, as JSON; `type` may repeat. The whole log streams through; only `limit` are held.
 */
export function mountAuditRecordsRoute(app: express.Express, authenticated: Route, source: ClientViewsSource): void {
  app.get(
    '/v1/audit/records',
    authenticated(async (request, response) => {
      const query = parseInput(recordsQuery, request.query);
      const records = await source.clientViews().auditRecords({
        types: query.type,
        since: query.since === undefined ? undefined : new Date(query.since),
        until: query.until === undefined ? undefined : new Date(query.until),
        limit: query.limit,
      });
      response.json({ records });
    }),
  );
}

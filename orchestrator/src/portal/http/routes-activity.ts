import express from 'express';
import * as z from 'zod';
import type { PortalContext } from '../portal-context.ts';
import { csrfField, isoDate, parseForm } from './forms.ts';
import { notFound } from './page-error.ts';
import { renderPage } from './render.ts';
import { summaryCharts } from '../settings/charts.ts';
import { requireActive, requireCsrf, route, stateOf } from './request-state.ts';

const DAY_MS = 86_400_000;
const TIMELINE_LIMIT = 200;

/** The filters offered, by audit action type (what the client recognises, not our internal names). */
export const ACTIVITY_TYPES: ReadonlyArray<{ value: string; label: string; one: string }> = [
  { value: 'email_read', label: 'Emails read', one: 'Email read' },
  { value: 'email_draft', label: 'Drafts written', one: 'Draft written' },
  { value: 'email_send', label: 'Emails sent', one: 'Email sent' },
  { value: 'approval_requested', label: 'Approvals asked', one: 'Approval asked' },
  { value: 'approval_decided', label: 'Approvals decided', one: 'Approval decided' },
  { value: 'approval_expired', label: 'Approvals expired', one: 'Approval expired' },
  { value: 'policy_denied', label: 'Actions blocked', one: 'Action blocked' },
  { value: 'review_queued', label: 'Emails set aside', one: 'Email set aside for you' },
  { value: 'review_resolved', label: 'Set-aside emails resolved', one: 'Set-aside email resolved' },
  { value: 'kill', label: 'Stops', one: 'Agent stopped' },
  { value: 'revive', label: 'Revives', one: 'Agent revived' },
];
const LABELS = new Map(ACTIVITY_TYPES.map((type) => [type.value, type.one]));

/** A range whose end is not before its start (an empty end or start is open). */
const inOrder = (range: { from?: string | undefined; to?: string | undefined }) => !range.from || !range.to || range.from <= range.to;
const activityQuery = z
  .object({
    type: z
      .string()
      .refine((value) => value === '' || LABELS.has(value), 'is not one of the offered choices')
      .optional(),
    from: z.union([z.literal(''), isoDate]).optional(),
    to: z.union([z.literal(''), isoDate]).optional(),
  })
  .strict()
  .refine(inOrder, { path: ['to'], message: 'is before the "from" date' });
const summaryQuery = z.object({ date: isoDate.optional() }).strict();
const exportForm = z
  .object({
    _csrf: csrfField,
    format: z.enum(['csv', 'jsonl'], { error: 'must be csv or jsonl' }),
    from: z.union([z.literal(''), isoDate]).optional(),
    to: z.union([z.literal(''), isoDate]).optional(),
  })
  .strict()
  .refine(inOrder, { path: ['to'], message: 'is before the "from" date' });

/** A denial reason as a short legend label: `rate_limit_hour` → "Rate limit hour". */
const reasonLabel = (code: string) => code.charAt(0).toUpperCase() + code.slice(1).replace(/_/g, ' ');
const startOf = (date: string | undefined) => (date ? new Date(`${date}T00:00:00Z`) : undefined);
const endOf = (date: string | undefined) =>
  date ? new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS) : undefined;

/** Activity (audit timeline), the daily summary and the audit export. */
export function activityRoutes(context: PortalContext): express.Router {
  const router = express.Router();
  router.use(['/activity', '/summary', '/export'], requireActive);
  const adminOf = (response: express.Response) =>
    stateOf(response).admin ??
    (() => {
      throw notFound();
    })();

  router.get(
    '/activity',
    route(async (request, response) => {
      const query = parseForm(activityQuery, request.query);
      const admin = adminOf(response);
      const filter = {
        type: query.type || undefined,
        from: query.from || undefined,
        to: query.to || undefined,
      };
      const since = startOf(filter.from);
      const until = endOf(filter.to);
      const events = await context.gateway.auditTimeline(admin.clientId, {
        limit: TIMELINE_LIMIT,
        ...(filter.type ? { types: [filter.type] } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
      });
      await renderPage(context, response, 'activity', {
        title: 'Activity',
        types: ACTIVITY_TYPES,
        filter,
        limit: TIMELINE_LIMIT,
        events: events.map((event) => ({
          ...event,
          label: LABELS.get(event.type) ?? event.type.replace(/_/g, ' '),
        })),
      });
    }),
  );
  router.get(
    '/summary',
    route(async (request, response) => {
      const query = parseForm(summaryQuery, request.query);
      const admin = adminOf(response);
      const date = query.date ?? new Date(context.clock.now().getTime() - DAY_MS).toISOString().slice(0, 10);
      const [summary, series, settingsHistory] = await Promise.all([
        context.gateway.dailySummary(admin.clientId, date),
        context.settings.series(admin.clientId, 30).catch(() => null),
        context.settings.history(admin.clientId, 5).catch(() => null),
      ]);
      const charts = series === null ? null : summaryCharts(series, (code) => reasonLabel(code));
      await renderPage(context, response, 'summary', { title: `Daily summary, ${date}`, date, summary, charts, settingsHistory });
    }),
  );
  router.get(
    '/export',
    route(async (_request, response) =>
      renderPage(context, response, 'export', { title: 'Export the audit log' }),
    ),
  );
  router.post(
    '/export',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const form = parseForm(exportForm, request.body);
      const admin = adminOf(response);
      const since = startOf(form.from || undefined);
      const until = endOf(form.to || undefined);
      const day = context.clock.now().toISOString().slice(0, 10);
      response.setHeader(
        'Content-Type',
        form.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      );
      response.setHeader(
        'Content-Disposition',
        `attachment; filename="audit-${admin.clientId}-${day}.${form.format}"`,
      );
      await context.gateway.exportAudit(
        admin.clientId,
        form.format,
        response,
        { ...(since ? { since } : {}), ...(until ? { until } : {}) },
        admin.email,
      );
      response.end();
    }),
  );
  return router;
}

import type express from 'express';
import * as z from 'zod';
import type { ClientViewsSource } from '../services/runtime/client-views.ts';
import { parseInput, type Route } from './route-kit.ts';

const url = z.string().min(1).max(2000);
const noticeBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('approval'), approvalId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/), url }).strict(),
  z
    .object({ kind: z.literal('enrolment'), email: z.string().min(3).max(320), url, expiresAt: z.iso.datetime({ offset: true }) })
    .strict(),
]);

/**
 * `POST /v1/admin-notices`: mails the client's admins a new approval's one-tap link, or one admin's
 * portal enrolment link, through the client's own mailbox (idempotent per approval and per link).
 * Answers `{ outcome: 'sent' | 'queued' | 'skipped' }`; skipped in dry run, after a kill, without
 * `mail.send`.
 */
export function mountAdminNoticesRoute(app: express.Express, authenticated: Route, source: ClientViewsSource): void {
  app.post(
    '/v1/admin-notices',
    authenticated(async (request, response) => {
      const body = parseInput(noticeBody, request.body);
      response.json({ outcome: await source.clientViews().sendAdminNotice(body) });
    }),
  );
}

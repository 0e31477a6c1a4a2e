import express from 'express';
import * as z from 'zod';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ParkedEmailAction } from '../client-gateway.ts';
import type { PortalContext } from '../portal-context.ts';
import { csrfField, parseForm } from './forms.ts';
import { PageError, notFound } from './page-error.ts';
import { pageNumber, pageOf } from './pagination.ts';
import { renderPage } from './render.ts';
import { requireActive, requireCsrf, route, stateOf } from './request-state.ts';

/** The agent keeps message ids of up to 2000 characters, none with a control character. */
const messageField = z
  .string()
  .min(1)
  .max(2000)
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'is not valid');
/** The page of the list a button was pressed on, so that "Back" returns there. */
const resolveForm = z.object({ _csrf: csrfField, message: messageField, page: pageNumber.optional() }).strict();
const listQuery = z.object({ page: pageNumber.optional() }).strict();
/**
 * Emails a page shows. The agent keeps up to 1000, and an entry is 1.5 kB, or 5 kB with the longest message
 * ids (each is in both of its forms): the whole list was 1.5 to 5 MB on a phone. 25 keeps a page under 150 kB.
 */
export const REVIEW_PAGE_SIZE = 25;

/** The list's address at `page` (the first page has no query, as the menu links it). */
const listAt = (page: number) => (page > 1 ? `/review?page=${page}` : '/review');

/** Why the assistant set an email aside, in the words of someone who does not know its insides. */
const REASON_TEXT: Readonly<Record<string, string>> = {
  low_confidence: 'The assistant was not sure what kind of email this is, so it did not answer.',
  malformed_model_output: 'The assistant’s answer came back garbled, so it did nothing with this email.',
  unusable_draft: 'The reply the assistant wrote did not pass its checks, so nothing was kept or sent.',
  model_call_limit: 'The assistant tried several times without a usable result, and stopped to save cost.',
  model_call_over_budget: 'Answering this email would have cost more than the assistant is allowed to spend on one email.',
  processing_failed: 'Something kept going wrong while the assistant handled this email.',
  own_address_unverified: 'It claims to come from your own address, but your mailbox did not send it. It may be forged.',
};
const OTHER_REASON = 'The assistant could not handle this email by itself.';

/** "3 days ago", "2 hours ago", "just now": how long an email has waited, coarse and never negative. */
export function waitedFor(since: string, now: Date): string {
  const ms = now.getTime() - Date.parse(since);
  if (!Number.isFinite(ms)) return 'some time ago';
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'} ago`;
  if (minutes < 1) return 'just now';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.floor(hours / 24), 'day');
}

/** What comes of each button, said on the page before it is pressed and again after. */
const DONE_TEXT: Record<ParkedEmailAction, { title: string; changed: string; unchanged: string }> = {
  handled: {
    title: 'Marked as dealt with',
    changed: 'The email has left the list. The assistant will not touch it; your name is on record in the activity log.',
    unchanged: 'This email had already been marked as dealt with. Nothing changed.',
  },
  retry: {
    title: 'The assistant will try again',
    changed:
      'The assistant will read this email again from the start within a few minutes, with all its usual checks. If it gets stuck again, the email comes back to this list, and then only “I dealt with it” remains.',
    unchanged: 'The assistant had already been asked to try this email again. Nothing changed.',
  },
};

/** Why a button could not do its job, in plain words (the agent's own message names its internals). */
const CONFLICT_TEXT: Record<ParkedEmailAction, string> = {
  handled: 'This email is not waiting any more: the assistant may be trying it again just now. The list shows where things stand.',
  retry:
    'The assistant cannot try this email again: it already had its one more try, or the email is not waiting any more. Deal with it in your mailbox, then press “I dealt with it”.',
};

/** Emails set aside for a person: the list, "I dealt with it" and "Let the assistant try again". */
export function reviewRoutes(context: PortalContext): express.Router {
  const router = express.Router();
  router.use('/review', requireActive);

  const adminOf = (response: express.Response) => {
    const admin = stateOf(response).admin;
    if (!admin) throw notFound();
    return admin;
  };

  router.get(
    '/review',
    route(async (request, response) => {
      const query = parseForm(listQuery, request.query);
      const admin = adminOf(response);
      const { emails, limit } = await context.gateway.parkedEmails(admin.clientId);
      const now = context.clock.now();
      const shown = pageOf(emails, query.page ?? 1, REVIEW_PAGE_SIZE);
      await renderPage(context, response, 'review', {
        title: shown.pages > 1 ? `Set aside for you (page ${shown.page} of ${shown.pages})` : 'Set aside for you',
        limit,
        total: shown.total,
        pager: {
          page: shown.page,
          pages: shown.pages,
          from: shown.offset + 1,
          to: shown.offset + shown.items.length,
          first: listAt(1),
          previous: shown.page > 1 ? listAt(shown.page - 1) : null,
          next: shown.page < shown.pages ? listAt(shown.page + 1) : null,
          last: listAt(shown.pages),
        },
        emails: shown.items.map((email, index) => ({
          ...email,
          position: shown.offset + index,
          why: REASON_TEXT[email.reason] ?? OTHER_REASON,
          waited: waitedFor(email.since, now),
        })),
      });
    }),
  );

  for (const action of ['handled', 'retry'] as const) {
    router.post(
      `/review/${action}`,
      requireCsrf(context, 'active'),
      route(async (request, response) => {
        const admin = adminOf(response);
        const form = parseForm(resolveForm, request.body);
        let changed: boolean;
        try {
          ({ changed } = await context.gateway.resolveParkedEmail(admin.clientId, form.message, action, admin.email));
        } catch (error) {
          // Another client's message id is simply not found: its agent is not this client's.
          if (isFleetError(error) && error.code === 'not_found') throw notFound();
          if (isFleetError(error) && error.code === 'conflict') throw new PageError(409, 'Nothing was changed', CONFLICT_TEXT[action]);
          throw error;
        }
        const text = DONE_TEXT[action];
        await renderPage(context, response, 'done', {
          title: text.title,
          message: changed ? text.changed : text.unchanged,
          back: listAt(form.page ?? 1),
          backText: 'Back to the emails set aside',
        });
      }),
    );
  }
  return router;
}

import express from 'express';
import * as z from 'zod';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { PortalContext } from '../portal-context.ts';
import { csrfField, csrfOnlyForm, parseForm, requiredText } from './forms.ts';
import { PageError, notFound } from './page-error.ts';
import { formatters, readClientStatus, renderPage } from './render.ts';
import { stoppedSinceText } from './stop-text.ts';
import { supportPage } from './support-page.ts';
import { requireActive, requireCsrf, route, stateOf } from './request-state.ts';

const reasonForm = z.object({ _csrf: csrfField, reason: requiredText(500, { multiLine: true }) }).strict();
const supportForm = z
  .object({ _csrf: csrfField, decision: z.enum(['approve', 'deny'], { error: 'must be approve or deny' }) })
  .strict();
const GRANT_ID = /^sg-[a-f0-9]{16}$/;

function adminOf(response: express.Response): { clientId: string; email: string } {
  const admin = stateOf(response).admin;
  if (!admin) throw notFound();
  return admin;
}

/** Expected refusals (already killed, not killed, grant no longer pending) as a page saying nothing changed. */
function refusal(error: unknown): never {
  if (isFleetError(error) && error.code === 'not_found') throw notFound();
  if (isFleetError(error) && (error.code === 'conflict' || error.code === 'forbidden')) {
    throw new PageError(409, 'Nothing was changed', error.message);
  }
  throw error;
}

/**
 * What a press of the kill switch says when the agent was stopped before it: the stop it found (when and by
 * whom, when known), and that the press only applied the lockdown again; it was not a new stop, and nobody
 * is told of one.
 */
async function alreadyStoppedPage(context: PortalContext, admin: { clientId: string; email: string }) {
  const clientStatus = await readClientStatus(context, admin.clientId, { stop: true });
  const since = stoppedSinceText(clientStatus, admin.email, formatters.when);
  return {
    title: 'The agent was already stopped',
    clientStatus,
    message: `The agent was already stopped${since ? ` (${since})` : ''}. Nothing new was stopped.`,
    detail:
      'To be sure, its access was revoked and its container stopped again, and your request is recorded with your reason. It stays stopped until someone revives it.',
    tone: 'blocked',
  };
}

/**
 * A press of the kill switch that failed. The registry says stopped before the lockdown and the stop run, so
 * the stop may be partly done and "nothing was changed" would be untrue; and the agent may still be running.
 * Pressing again is the way out: the kill applies the whole stop again to an agent stopped already.
 */
function incompleteKill(context: PortalContext, clientId: string, error: unknown): 'incomplete' {
  if (isFleetError(error) && error.code === 'not_found') throw notFound();
  // Refused before it began: nothing was changed, as the error page says.
  if (isFleetError(error) && error.code === 'invalid_input') throw error;
  context.logger.error('portal kill did not complete', { error, client: clientId });
  return 'incomplete';
}

/** Not the error page: this one links back to the kill page, whose button finishes the stop. */
const KILL_INCOMPLETE_PAGE = {
  title: 'The stop may not have completed',
  message: 'Part of the stop failed, so the agent may still be running.',
  detail:
    'Go back to the stop page and apply the stop again: it runs the whole stop again, which is safe even if part of it worked. If it fails again, call the agency at once.',
  tone: 'blocked',
  back: '/kill',
  backText: 'Back to the stop page',
};

/**
 * A revive refused because the agent is not stopped (running, or being started again by someone else just
 * now), in words for a client admin: the service's own words are for operators, `fleet` commands and all.
 */
function reviveRefusal(error: unknown): never {
  if (isFleetError(error) && error.code === 'conflict') {
    throw new PageError(
      409,
      'Nothing was changed',
      'The agent is not stopped: it is running, or someone (another admin or the agency) is starting it again just now. Reload the page in a minute to see where it stands.',
    );
  }
  return refusal(error);
}

function grantIdOf(request: express.Request): string {
  const grantId = String(request.params['grantId']);
  if (!GRANT_ID.test(grantId)) throw notFound();
  return grantId;
}

/** The kill switch, revive, and support-access decisions. */
export function controlRoutes(context: PortalContext): express.Router {
  const router = express.Router();
  router.use(['/kill', '/revive', '/support'], requireActive);
  router.get(
    '/kill',
    route(async (_request, response) => {
      const admin = adminOf(response);
      // It says since when and by whom before its button: with the page after a press, the only reader of the stop's details.
      const clientStatus = await readClientStatus(context, admin.clientId, { stop: true });
      await renderPage(context, response, 'kill', { title: 'Stop the agent', clientStatus });
    }),
  );
  router.post(
    '/kill',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const form = parseForm(reasonForm, request.body);
      const admin = adminOf(response);
      const outcome = await context.gateway
        .kill(admin.clientId, form.reason, admin.email)
        .catch((error: unknown) => incompleteKill(context, admin.clientId, error));
      if (outcome === 'incomplete') {
        await renderPage(context, response, 'done', KILL_INCOMPLETE_PAGE, 500);
        return;
      }
      if (outcome.alreadyStopped) {
        await renderPage(context, response, 'done', await alreadyStoppedPage(context, admin));
        return;
      }
      await renderPage(context, response, 'done', {
        title: 'The agent is stopped',
        message:
          'The agent is stopped: its access is revoked and its container is stopped. The agency has been notified.',
        detail: 'It stays stopped until someone revives it.',
        tone: 'blocked',
      });
    }),
  );
  router.get(
    '/revive',
    route(async (_request, response) =>
      renderPage(context, response, 'revive', { title: 'Revive the agent' }),
    ),
  );
  router.post(
    '/revive',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const form = parseForm(reasonForm, request.body);
      const admin = adminOf(response);
      await context.gateway.revive(admin.clientId, form.reason, admin.email).catch(reviveRefusal);
      await renderPage(context, response, 'done', {
        title: 'The agent is running again',
        message: 'The agent is running again with fresh access. The agency has been notified.',
      });
    }),
  );
  router.get(
    '/support',
    route(async (_request, response) => {
      const admin = adminOf(response);
      const requests = await context.gateway.supportRequests(admin.clientId);
      await renderPage(context, response, 'support', { title: 'Support access', ...supportPage(requests) });
    }),
  );
  router.post(
    '/support/:grantId',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const grantId = grantIdOf(request);
      const form = parseForm(supportForm, request.body);
      const admin = adminOf(response);
      const grant = await context.gateway
        .decideSupport(admin.clientId, grantId, form.decision, admin.email)
        .catch(refusal);
      const message =
        form.decision === 'approve'
          ? `${grant.member} can read your data until ${formatters.when(grant.expiresAt) || 'the grant ends'}, for incident ${grant.incident}. Each use is logged.`
          : `Denied: ${grant.member} has no access.`;
      await renderPage(context, response, 'done', {
        title: form.decision === 'approve' ? 'Access approved' : 'Access denied',
        message,
        back: '/support',
        backText: 'Back to support access',
      });
    }),
  );
  router.post(
    '/support/:grantId/end',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const grantId = grantIdOf(request);
      parseForm(csrfOnlyForm, request.body);
      const admin = adminOf(response);
      const grant = await context.gateway.endSupport(admin.clientId, grantId, admin.email).catch(refusal);
      await renderPage(context, response, 'done', {
        title: 'Access ended',
        message: `${grant.member} no longer has access to your data (incident ${grant.incident}).`,
        detail: 'To look again, they must ask again, and you decide again.',
        back: '/support',
        backText: 'Back to support access',
      });
    }),
  );
  return router;
}

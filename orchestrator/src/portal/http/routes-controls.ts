import express from 'express';
import * as z from 'zod';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { AccountClosure, ClientStatusView, SupportRequest } from '../client-gateway.ts';
import type { PortalContext } from '../portal-context.ts';
import { csrfField, csrfOnlyForm, parseForm, requiredText } from './forms.ts';
import { PageError, notFound } from './page-error.ts';
import { formatters, readClientStatus, renderPage } from './render.ts';
import { agencyStopText, closureText, revivableByAdmins, stoppedSinceText } from './stop-text.ts';
import { supportPage } from './support-page.ts';
import { requireActive, requireCsrf, route, stateOf } from './request-state.ts';

const reasonForm = z.object({ _csrf: csrfField, reason: requiredText(500, { multiLine: true }) }).strict();
const supportForm = z
  .object({ _csrf: csrfField, decision: z.enum(['approve', 'deny'], { error: 'must be approve or deny' }) })
  .strict();
const GRANT_ID = /^sg-[a-f0-9]{16}$/;
/** What a client admin is told of a stop the agency made or joined (stop-rights.ts). */
const AGENCY_ONLY = 'Only the agency can restart it: call them if it should run again.';

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
    detail: `To be sure, its access was revoked and its container stopped again, and your request is recorded with your reason. ${untilText(clientStatus, admin.email)}`,
    tone: 'blocked',
  };
}

/** Who can start a stopped agent again, as the last words of a page after a press of the kill switch. */
function untilText(status: ClientStatusView | null, viewer: string): string {
  if (revivableByAdmins(status)) return 'It stays stopped until you or another of your administrators revive it.';
  if (status?.killed) return `${agencyStopText(status, viewer, formatters.when)} ${AGENCY_ONLY}`;
  return 'It stays stopped until it is revived.';
}

/**
 * A press of the kill switch on a closed account: the lockdown and stop ran (the agent may not have been
 * removed yet), but nothing is to be revived, ever; and a closed account raises no kill-switch notice.
 */
function closedKillPage(closure: AccountClosure) {
  return {
    title: 'The account is closed',
    message: `Your account ${closureText(closure)}. The stop was applied all the same: its access is revoked and nothing of it runs.`,
    detail: 'The agent of a closed account is never started again: there is nothing to revive. Your request is recorded with your reason.',
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
 * A revive that did not happen, in words for a client admin (the services' own words are for operators,
 * `fleet` commands and all), from where the agent stands now: refused because the agency stopped it (403),
 * because it is not stopped, was stopped again meanwhile or the account is closed (409); or tried and
 * failed, which leaves it stopped.
 */
async function reviveFailure(context: PortalContext, admin: { clientId: string; email: string }, error: unknown): Promise<never> {
  if (isFleetError(error) && (error.code === 'not_found' || error.code === 'invalid_input')) return refusal(error);
  const refused = isFleetError(error) && (error.code === 'conflict' || error.code === 'forbidden');
  if (!refused) context.logger.error('portal revive did not complete', { error, client: admin.clientId });
  const status = await readClientStatus(context, admin.clientId, { stop: true });
  if (status?.closure) {
    throw new PageError(409, 'Nothing was changed', `Your account ${closureText(status.closure)}, and the agent of a closed account is never started again.`);
  }
  if (isFleetError(error) && error.code === 'forbidden') {
    const who = status?.killed ? `${agencyStopText(status, admin.email, formatters.when)} ` : '';
    throw new PageError(403, 'Only the agency can restart the agent', `${who}${AGENCY_ONLY} Nothing was changed.`);
  }
  if (refused && status?.killed) {
    // Refused part way by a stop that came while it was being started (a kill wins over a revive).
    throw new PageError(
      409,
      'The agent was not started again',
      'The agent is still stopped: it was stopped again while it was being started. Open the revive page to see who stopped it and whether you can revive it.',
    );
  }
  if (refused) {
    throw new PageError(
      409,
      'Nothing was changed',
      'The agent is not stopped: it is running, or someone (another admin or the agency) is starting it again just now. Reload the page in a minute to see where it stands.',
    );
  }
  if (status?.killed) {
    throw new PageError(
      500,
      'The agent was not started again',
      'The revive could not be completed just now, so the agent is still stopped. Try again in a minute; if it fails again, call the agency.',
    );
  }
  throw new PageError(
    500,
    'The revive may not have completed',
    'Something failed while the agent was being started again, and the portal cannot tell where it stands. Open the revive page in a minute to see; if it is still stopped, try again or call the agency.',
  );
}

/**
 * The page after a deny. A colleague who approved the same request at the same moment made it an access
 * the deny then ended: the page says that, and that the member has no access now, not a plain "denied".
 */
function deniedPage(grant: SupportRequest, viewer: string) {
  if (grant.approvedBy === null) {
    const expired = grant.state === 'expired';
    return {
      title: expired ? 'The request had expired' : 'Access denied',
      message: expired ? `This request expired before your answer reached it: ${grant.member} has no access.` : `Denied: ${grant.member} has no access.`,
    };
  }
  const approver = grant.approvedBy === viewer.toLowerCase() ? 'You had just approved it (in another window or tab)' : `${grant.approvedBy} had just approved it`;
  return {
    title: 'Access approved, then ended',
    message: `${approver}, and your deny ended that access at once: ${grant.member} has no access now (incident ${grant.incident}). Any use in between is logged.`,
  };
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
      if (outcome.closure) {
        await renderPage(context, response, 'done', closedKillPage(outcome.closure));
        return;
      }
      await renderPage(context, response, 'done', {
        title: 'The agent is stopped',
        message:
          'The agent is stopped: its access is revoked and its container is stopped. The agency has been notified.',
        detail: 'It stays stopped until you or another of your administrators revive it, or the agency does.',
        tone: 'blocked',
      });
    }),
  );
  router.get(
    '/revive',
    route(async (_request, response) => {
      const admin = adminOf(response);
      // Who stopped it decides whether the page has a button: only a stop of the client's own admins is revived here.
      const clientStatus = await readClientStatus(context, admin.clientId, { stop: true });
      await renderPage(context, response, 'revive', { title: 'Revive the agent', clientStatus });
    }),
  );
  router.post(
    '/revive',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const form = parseForm(reasonForm, request.body);
      const admin = adminOf(response);
      await context.gateway
        .revive(admin.clientId, form.reason, admin.email)
        .catch((error: unknown) => reviveFailure(context, admin, error));
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
      const page =
        form.decision === 'approve'
          ? {
              title: 'Access approved',
              message: `${grant.member} can read your data until ${formatters.when(grant.expiresAt) || 'the grant ends'}, for incident ${grant.incident}. Each use is logged.`,
            }
          : deniedPage(grant, admin.email);
      await renderPage(context, response, 'done', { ...page, back: '/support', backText: 'Back to support access' });
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

import express from 'express';
import * as z from 'zod';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ApprovalDecision, ApprovalDetail, ApprovalState } from '../client-gateway.ts';
import type { LinkState } from '../approval-links.ts';
import { isSignedApprovalLink } from '../crypto/signed-link.ts';
import type { PortalContext } from '../portal-context.ts';
import { addressList, csrfField, optionalText, parseForm, requiredText } from './forms.ts';
import { PageError, notFound } from './page-error.ts';
import { renderPage } from './render.ts';
import { ensurePre, requireActive, requireCsrf, route, stateOf } from './request-state.ts';

const APPROVAL_ID = /^[A-Za-z0-9_-]{1,100}$/;
type CheckedLink = Extract<LinkState, { ok: true }>;
const linkField = z.string().max(600, 'is not valid').optional();
const approveForm = z.object({ _csrf: csrfField, link: linkField }).strict();
const rejectForm = z.object({ _csrf: csrfField, link: linkField, reason: requiredText(1000, { multiLine: true }) }).strict();
const editForm = z
  .object({
    _csrf: csrfField,
    link: linkField,
    to: addressList(100).refine((list) => list.length > 0, 'needs at least one address'),
    cc: addressList(100)
      .optional()
      .transform((list) => list ?? []),
    // Like Cc: what the admin leaves here is what the edited email is blind-copied to (none when empty).
    bcc: addressList(100)
      .optional()
      .transform((list) => list ?? []),
    // A header once sent: one line.
    subject: optionalText(1000).transform((value) => value ?? ''),
    body: optionalText(100_000, { multiLine: true }).transform((value) => value ?? ''),
  })
  .strict();

const STATE_TEXT: Record<ApprovalState, string> = {
  pending: 'Waiting for a decision',
  approved: 'Approved',
  edited: 'Approved with edits',
  rejected: 'Rejected',
  expired: 'Expired',
};

/** Past its expiry, a pending approval is expired whatever the agent last said. */
function isExpired(approval: ApprovalDetail, now: Date): boolean {
  return (
    approval.state === 'expired' ||
    (approval.state === 'pending' && Date.parse(approval.expiresAt) <= now.getTime())
  );
}

/** Approvals: list, detail with the whole draft, approve / edit then approve / reject, and one-tap links. */
export function approvalRoutes(context: PortalContext): express.Router {
  const router = express.Router();

  /** The approval of the signed-in admin's client, or the one 404 (an id of another client included). */
  async function load(
    response: express.Response,
    id: string,
  ): Promise<{ clientId: string; email: string; approval: ApprovalDetail }> {
    const admin = stateOf(response).admin;
    if (!admin || !APPROVAL_ID.test(id)) throw notFound();
    const approval = await context.gateway.getApproval(admin.clientId, id);
    if (!approval) throw notFound();
    return { ...admin, approval };
  }

  /**
   * A one-tap link's state. A refused link the portal did not sign (forged, altered) is counted as a refused
   * authentication; a genuine one opened again once used or expired is not: that is an admin clicking an
   * old email, not an attack, and counting it would raise the burst alert on ordinary use.
   */
  async function checkLink(token: string): Promise<LinkState> {
    const state = await context.links.check(token);
    if (!state.ok && !isSignedApprovalLink(context.keys.links, token)) context.onAuthRefused?.();
    return state;
  }

  /**
   * A link carried by a form must be valid, name this client and approval, and be unused. It is used up only
   * once the decision is made (decide): a decision the agent could not take (it was restarting) leaves the
   * link working for the retry the error page asks for. The link grants nothing the session does not.
   */
  async function formLink(
    response: express.Response,
    token: string | undefined,
    approvalId: string,
  ): Promise<CheckedLink | null> {
    if (token === undefined || token === '') return null;
    const state = await checkLink(token);
    if (
      !state.ok ||
      state.link.clientId !== stateOf(response).admin?.clientId ||
      state.link.approvalId !== approvalId
    )
      throw notFound();
    return state;
  }

  /** A link given in a query string (the edit page): checked, not used. */
  async function linkFromQuery(
    request: express.Request,
    response: express.Response,
    approvalId: string,
  ): Promise<string | undefined> {
    const token = request.query['link'];
    if (typeof token !== 'string' || token === '') return undefined;
    const state = await checkLink(token);
    if (
      !state.ok ||
      state.link.clientId !== stateOf(response).admin?.clientId ||
      state.link.approvalId !== approvalId
    )
      throw notFound();
    return token;
  }

  async function showDetail(
    response: express.Response,
    approval: ApprovalDetail,
    link: string | undefined,
  ): Promise<void> {
    const expired = isExpired(approval, context.clock.now());
    await renderPage(context, response, 'approval', {
      title: approval.draft?.subject || 'Approval',
      approval,
      expired,
      stateText: STATE_TEXT[approval.state],
      actionable: approval.state === 'pending' && !expired,
      link,
    });
  }

  async function decide(
    response: express.Response,
    approval: ApprovalDetail,
    decision: ApprovalDecision,
    link: CheckedLink | null,
  ): Promise<void> {
    const { clientId, email } = stateOf(response).admin ?? { clientId: '', email: '' };
    const id = approval.id;
    // Past its expiry nothing may be decided, whatever the agent's own sweep has done yet.
    if (isExpired(approval, context.clock.now())) {
      throw new PageError(409, 'Not decided', 'Nothing was changed: this approval has expired.');
    }
    let outcome;
    try {
      outcome = await context.gateway.decide(clientId, id, decision, email);
    } catch (error) {
      if (isFleetError(error) && error.code === 'not_found') throw notFound();
      if (isFleetError(error) && (error.code === 'conflict' || error.code === 'invalid_input')) {
        throw new PageError(409, 'Not decided', `Nothing was changed: ${error.message}`);
      }
      throw error;
    }
    // Used now that the decision is made (a second post of the same link meanwhile was refused by the agent).
    // The decision stands if this fails: the page must not say nothing was changed, and the link can decide
    // nothing more, as the approval is no longer pending.
    if (link)
      await context.links.use(link).catch((error: unknown) => {
        context.logger.error('portal could not mark a one-tap link used', { error, client: clientId });
      });
    const blocked = outcome.execution === 'blocked';
    const approved = decision.decision === 'edit' ? 'Approved with your edits. The gate accepted your version' : 'Approved';
    const message =
      decision.decision === 'reject'
        ? 'Rejected. Nothing will be sent; your reason is in the audit log.'
        : blocked
          ? 'The policy gate refused this email even with your approval, so nothing was sent. The audit log has the reasons.'
          : outcome.execution === 'waiting'
            ? `${approved}, but it is not sent yet: the agent cannot send just now (the mail provider asked it to slow down, or the mailbox needs to be connected again). It goes out as soon as the agent can send; Activity shows when.`
            : decision.decision === 'edit'
              ? `${approved} and the agent is sending it.`
              : `${approved}. The agent is sending it.`;
    await renderPage(context, response, 'done', {
      title: blocked ? 'Blocked by the policy gate' : 'Done',
      message,
      tone: blocked ? 'blocked' : 'done',
    });
  }

  router.get(
    '/a/:token',
    route(async (request, response) => {
      const token = String(request.params['token']);
      const state = await checkLink(token);
      if (!state.ok) throw notFound();
      const admin = stateOf(response).admin;
      if (!admin) {
        // Arriving from an email is a cross-site navigation: no SameSite=Strict cookie came with it.
        await ensurePre(context, response);
        await renderPage(context, response, 'link-sign-in', {
          title: 'An approval is waiting',
          webauthn: true,
          next: `/a/${token}`,
        });
        return;
      }
      if (admin.clientId !== state.link.clientId) throw notFound();
      const { approval } = await load(response, state.link.approvalId);
      await showDetail(response, approval, token);
    }),
  );
  router.use('/approvals', requireActive);
  router.get(
    '/approvals',
    route(async (_request, response) => {
      const admin = stateOf(response).admin;
      const approvals = admin ? await context.gateway.listApprovals(admin.clientId) : [];
      const now = context.clock.now();
      const shown = approvals
        .map((approval) =>
          approval.state === 'pending' && Date.parse(approval.expiresAt) <= now.getTime()
            ? { ...approval, state: 'expired' as const }
            : approval,
        )
        // Waiting ones first, the soonest to expire on top; expired ones after.
        .sort(
          (a, b) =>
            Number(a.state === 'expired') - Number(b.state === 'expired') ||
            Date.parse(a.expiresAt) - Date.parse(b.expiresAt),
        );
      await renderPage(context, response, 'approvals', { title: 'Approvals', approvals: shown });
    }),
  );
  router.get(
    '/approvals/:id',
    route(async (request, response) => {
      const id = String(request.params['id']);
      const { approval } = await load(response, id);
      await showDetail(response, approval, await linkFromQuery(request, response, id));
    }),
  );
  router.get(
    '/approvals/:id/edit',
    route(async (request, response) => {
      const id = String(request.params['id']);
      const { approval } = await load(response, id);
      if (!approval.draft || approval.state !== 'pending' || isExpired(approval, context.clock.now()))
        throw notFound();
      await renderPage(context, response, 'approval-edit', {
        title: 'Edit before sending',
        id,
        draft: approval.draft,
        link: await linkFromQuery(request, response, id),
      });
    }),
  );
  router.post(
    '/approvals/:id/approve',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const id = String(request.params['id']);
      const { approval } = await load(response, id);
      const form = parseForm(approveForm, request.body);
      const link = await formLink(response, form.link, id);
      await decide(response, approval, { decision: 'approve' }, link);
    }),
  );
  router.post(
    '/approvals/:id/reject',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const id = String(request.params['id']);
      const { approval } = await load(response, id);
      const form = parseForm(rejectForm, request.body);
      const link = await formLink(response, form.link, id);
      await decide(response, approval, { decision: 'reject', reason: form.reason }, link);
    }),
  );
  router.post(
    '/approvals/:id/edit',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const id = String(request.params['id']);
      const { approval } = await load(response, id);
      // Only a message has an edit form: an edit must not graft recipients and a body onto another action.
      if (!approval.draft) throw notFound();
      const form = parseForm(editForm, request.body);
      const link = await formLink(response, form.link, id);
      const draft = { to: form.to, cc: form.cc, bcc: form.bcc, subject: form.subject, body: form.body };
      await decide(response, approval, { decision: 'edit', draft }, link);
    }),
  );
  return router;
}

import type express from 'express';
import type { AdminRef } from '../../ports/portal-store.ts';
import type { LiveSession } from '../identity/sessions.ts';
import type { PortalContext } from '../portal-context.ts';
import { PRE_COOKIE, SESSION_COOKIE, clearSessionCookie, parseCookies, setSessionCookie } from './cookies.ts';
import { PageError } from './page-error.ts';

/** What the portal knows about the person behind a request. */
export interface RequestState {
  /** The signed-in session, if any. */
  active: LiveSession | null;
  admin: AdminRef | null;
  /** The anonymous or enrolling session, if any. */
  pre: LiveSession | null;
}

export function stateOf(response: express.Response): RequestState {
  return response.locals['portal'] as RequestState;
}

type Handler = (request: express.Request, response: express.Response) => Promise<void>;

/** An async route whose failures reach the error middleware. */
export function route(handler: Handler): express.RequestHandler {
  return (request, response, next) => {
    handler(request, response).catch(next);
  };
}

/**
 * Resolves both session cookies. An admin no longer in the client's config, signed in or enrolling, loses
 * every session and credential here, on their next request.
 */
export function loadSessions(context: PortalContext): express.RequestHandler {
  return (request, response, next) => {
    resolveSessions(context, request, response).then(() => next(), next);
  };
}

/** The admin a session is for; null for an anonymous one. */
function adminOfSession(session: LiveSession): AdminRef | null {
  const { clientId, email } = session.record;
  return clientId && email ? { clientId, email } : null;
}

/**
 * Whether the admin is still in the client's config; one who is not loses every session and credential
 * (their enrolment in progress included: it would go on storing factors for an address that is no admin).
 */
async function stillAdmin(context: PortalContext, admin: AdminRef): Promise<boolean> {
  if ((await context.gateway.admins(admin.clientId)).includes(admin.email)) return true;
  await context.store.forgetAdmin(admin);
  context.logger.warn('portal admin no longer in the client config: sessions and credentials removed', {
    client: admin.clientId,
  });
  return false;
}

async function resolveSessions(
  context: PortalContext,
  request: express.Request,
  response: express.Response,
): Promise<void> {
  const cookies = parseCookies(request.headers.cookie);
  const state: RequestState = { active: null, admin: null, pre: null };
  const active = await context.sessions.resolve(cookies.get(SESSION_COOKIE));
  const activeAdmin = active?.record.stage === 'active' ? adminOfSession(active) : null;
  if (active && activeAdmin && (await stillAdmin(context, activeAdmin))) {
    state.active = active;
    state.admin = activeAdmin;
  }
  if (!state.active && cookies.has(SESSION_COOKIE)) clearSessionCookie(response, SESSION_COOKIE);
  const pre = await context.sessions.resolve(cookies.get(PRE_COOKIE));
  if (pre && pre.record.stage !== 'active') {
    const enrolling = adminOfSession(pre);
    if (enrolling === null || (await stillAdmin(context, enrolling))) state.pre = pre;
  }
  if (!state.pre && cookies.has(PRE_COOKIE)) clearSessionCookie(response, PRE_COOKIE);
  response.locals['portal'] = state;
  response.setHeader('Cache-Control', 'no-store');
}

/** The anonymous session a sign-in or enrolment page needs (for its CSRF token and WebAuthn challenge). */
export async function ensurePre(context: PortalContext, response: express.Response): Promise<LiveSession> {
  const state = stateOf(response);
  if (state.pre) return state.pre;
  const pre = await context.sessions.start('anonymous', null);
  setSessionCookie(response, PRE_COOKIE, pre.token);
  state.pre = pre;
  return pre;
}

/** Pages and actions of a signed-in admin: others go to the sign-in page, and nothing happens. */
export function requireActive(
  request: express.Request,
  response: express.Response,
  next: express.NextFunction,
): void {
  if (stateOf(response).active) {
    next();
    return;
  }
  const next_ =
    request.method === 'GET' && request.originalUrl.length < 700
      ? `?next=${encodeURIComponent(request.originalUrl)}`
      : '';
  response.redirect(303, `/sign-in${next_}`);
}

/**
 * Where the browser says a request came from: the `Origin` header, else the origin of the `Referer` (the
 * portal's pages send it only to the portal itself); undefined when it says neither.
 */
export function claimedOrigin(headers: { origin?: string | undefined; referer?: string | undefined }): string | undefined {
  if (headers.origin !== undefined) return headers.origin;
  if (headers.referer === undefined) return undefined;
  return URL.canParse(headers.referer) ? new URL(headers.referer).origin : 'invalid';
}

/**
 * Every state change carries the session's CSRF token (form field `_csrf`, or header `x-csrf-token` for
 * the WebAuthn calls), and must come from the portal's own origin when the browser says where it came
 * from (by `Origin`, or failing that by `Referer`).
 *
 * A step of sign-in or enrolment ('pre') needs the pre-session, and takes the token of either of the
 * browser's sessions: pages carry the signed-in session's token when there is one (render.ts), and an admin
 * signed in in this browser may enrol again in it. Either token proves the form came from a page of ours.
 */
export function requireCsrf(context: PortalContext, which: 'active' | 'pre'): express.RequestHandler {
  return (request, response, next) => {
    const state = stateOf(response);
    const session = which === 'active' ? state.active : state.pre;
    const origin = claimedOrigin(request.headers);
    const presented =
      (request.body as Record<string, unknown> | undefined)?.['_csrf'] ?? request.headers['x-csrf-token'];
    const holders = which === 'active' ? [state.active] : [state.pre, state.active];
    if (
      !session ||
      (origin !== undefined && origin !== context.publicUrl()) ||
      !holders.some((holder) => holder !== null && context.sessions.csrfValid(holder, presented))
    ) {
      next(
        new PageError(403, 'This form has expired', 'Nothing was changed. Reload the page and try again.'),
      );
      return;
    }
    next();
  };
}

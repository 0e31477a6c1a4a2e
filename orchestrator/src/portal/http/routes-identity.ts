import express from 'express';
import { rateLimit } from 'express-rate-limit';
import * as z from 'zod';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { PortalContext } from '../portal-context.ts';
import { lockoutMessage } from '../identity/lockout-message.ts';
import { DEVICE_COOKIE, SESSION_COOKIE, clearSessionCookie, parseCookies } from './cookies.ts';
import { csrfField, csrfOnlyForm, nextPath, parseForm } from './forms.ts';
import { PageError } from './page-error.ts';
import { renderPage } from './render.ts';
import { ensurePre, requireActive, requireCsrf, route, stateOf } from './request-state.ts';
import { enrolmentRoutes } from './routes-enrolment.ts';
import { signIn } from './sign-in.ts';

const codeForm = z
  .object({
    _csrf: csrfField,
    email: z
      .string()
      .trim()
      .toLowerCase()
      .min(3, 'is required')
      .max(254, 'is limited to 254 characters')
      .email('must be an email address'),
    code: z
      .string()
      .trim()
      .regex(/^[0-9]{6}$/, 'must be the 6 digits your app shows'),
    next: nextPath,
  })
  .strict();
const passkeyBody = z
  .object({ response: z.looseObject({ id: z.string().max(1000) }), next: nextPath })
  .strict();

/** A Map, not an object: a `notice` from the address bar must not reach `constructor` or `__proto__`. */
const NOTICES = new Map<unknown, string>([
  ['signed-out', 'You are signed out.'],
  ['signed-out-everywhere', 'You are signed out in every browser and on every device.'],
  ['ended', 'Your session ended. Sign in again to continue.'],
]);

function perAddressLimit(limit: number, skipSuccessfulRequests: boolean): express.RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    skipSuccessfulRequests,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_request, _response, next) => {
      next(
        new PageError(
          429,
          'Too many attempts',
          'Too many sign-in attempts came from your network in the last minute. Nothing was changed; wait a minute and try again.',
        ),
      );
    },
  });
}

/** Sign-in (passkey, or a TOTP code), sign-out (here or everywhere) and enrolment. */
export function identityRoutes(context: PortalContext): express.Router {
  const router = express.Router();
  // Per client IP, on top of the per-address code budgets (identity/totp.ts): slows down guessing across many
  // addresses. Only refused codes count, and passkey ceremonies and enrolment steps have a count of their
  // own, so that admins behind one address (an office's proxy) do not use up each other's sign-ins, and
  // codes guessed from there leave passkeys working.
  const codeLimiter = perAddressLimit(30, true);
  const limiter = perAddressLimit(60, false);
  const json = express.json({ limit: '64kb' });

  router.get(
    '/',
    route(async (_request, response) => {
      response.redirect(303, stateOf(response).active ? '/approvals' : '/sign-in');
    }),
  );
  router.get(
    '/sign-in',
    route(async (request, response) => {
      if (stateOf(response).active) {
        response.redirect(303, '/approvals');
        return;
      }
      await ensurePre(context, response);
      const next = nextPath.safeParse(request.query['next']);
      const notice = NOTICES.get(request.query['notice']);
      await renderPage(context, response, 'sign-in', {
        title: 'Sign in',
        webauthn: true,
        next: next.success ? next.data : undefined,
        message: notice,
      });
    }),
  );
  router.post(
    '/sign-in/code',
    codeLimiter,
    requireCsrf(context, 'pre'),
    route(async (request, response) => {
      const form = parseForm(codeForm, request.body);
      const device = parseCookies(request.headers.cookie).get(DEVICE_COOKIE);
      const outcome = await context.totp.signIn(form.email, form.code, device);
      const stillAdmin =
        outcome.ok && (await context.gateway.admins(outcome.admin.clientId)).includes(outcome.admin.email);
      if (outcome.ok && stillAdmin) {
        await signIn(context, response, outcome.admin, 'portal-sign-in-code');
        response.redirect(303, form.next ?? '/approvals');
        return;
      }
      // A right code of an address no longer among the client's admins: refused, and counted as any refusal.
      if (outcome.ok) context.onAuthRefused?.();
      const refused = outcome.ok ? null : outcome;
      if (refused?.lockedNow) {
        // The admins' trails show the guessing; the address itself goes in no log line.
        const event =
          refused.device === 'known' ? 'portal-codes-locked-device' : 'portal-codes-locked-unknown-devices';
        for (const admin of refused.lockedNow)
          await context.gateway.recordAdminEvent(admin.clientId, admin.email, event);
        context.logger.warn('portal code sign-in locked', {
          device: refused.device,
          admins: refused.lockedNow.length,
        });
      }
      const lockedUntil = refused?.lockedUntil ?? null;
      const error =
        refused && lockedUntil
          ? lockoutMessage(refused.device, lockedUntil, context.clock.now())
          : 'That code did not work. Check the address and enter the code your app shows now.';
      await renderPage(
        context,
        response,
        'sign-in',
        { title: 'Sign in', webauthn: true, next: form.next, email: form.email, error },
        lockedUntil ? 429 : 401,
      );
    }),
  );
  router.post(
    '/webauthn/sign-in/options',
    limiter,
    json,
    requireCsrf(context, 'pre'),
    route(async (_request, response) => {
      const pre = stateOf(response).pre;
      if (!pre) throw new PageError(403, 'Session ended', 'Reload the page.');
      response.json(await context.passkeys.authenticationOptions(pre));
    }),
  );
  router.post(
    '/webauthn/sign-in',
    limiter,
    json,
    requireCsrf(context, 'pre'),
    route(async (request, response) => {
      const body = passkeyBody.safeParse(request.body);
      const pre = stateOf(response).pre;
      if (!body.success || !pre)
        throw new PageError(400, 'Bad request', 'The passkey answer was not understood.', 'response');
      const admin = await context.passkeys.authenticate(
        pre,
        body.data.response as unknown as AuthenticationResponseJSON,
      );
      if (!admin || !(await context.gateway.admins(admin.clientId)).includes(admin.email)) {
        // The passkey factor counts a passkey it refuses; one of an address no longer an admin is counted here.
        if (admin) context.onAuthRefused?.();
        throw new PageError(
          401,
          'Not signed in',
          'This passkey is not known here, or no longer valid. Use another one or a code from your app.',
        );
      }
      await signIn(context, response, admin, 'portal-sign-in-passkey');
      response.json({ redirect: body.data.next ?? '/approvals' });
    }),
  );
  router.post(
    '/sign-out',
    requireActive,
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      parseForm(csrfOnlyForm, request.body);
      const state = stateOf(response);
      if (state.active) await context.sessions.end(state.active);
      if (state.admin)
        await context.gateway.recordAdminEvent(state.admin.clientId, state.admin.email, 'portal-sign-out');
      clearSessionCookie(response, SESSION_COOKIE);
      response.redirect(303, '/sign-in?notice=signed-out');
    }),
  );
  router.post(
    '/sign-out/everywhere',
    requireActive,
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      parseForm(csrfOnlyForm, request.body);
      const admin = stateOf(response).admin;
      if (admin) {
        // Every session of the admin, this one included: a browser left signed in elsewhere ends too.
        const ended = await context.sessions.endEverywhere(admin);
        await context.gateway.recordAdminEvent(admin.clientId, admin.email, 'portal-sign-out-everywhere');
        context.logger.info('portal admin signed out everywhere', { client: admin.clientId, sessions: ended });
      }
      clearSessionCookie(response, SESSION_COOKIE);
      response.redirect(303, '/sign-in?notice=signed-out-everywhere');
    }),
  );
  router.use(enrolmentRoutes(context, limiter, json));
  return router;
}

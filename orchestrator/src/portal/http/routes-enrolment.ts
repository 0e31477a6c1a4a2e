import express from 'express';
import * as z from 'zod';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { AdminRef } from '../../ports/portal-store.ts';
import { MAX_PASSKEYS_PER_ENROLMENT } from '../identity/enrolment.ts';
import type { PortalContext } from '../portal-context.ts';
import { PRE_COOKIE, setSessionCookie } from './cookies.ts';
import { csrfField, csrfOnlyForm, parseForm } from './forms.ts';
import { PageError, notFound } from './page-error.ts';
import { renderPage } from './render.ts';
import { ensurePre, requireCsrf, route, stateOf } from './request-state.ts';
import { signIn } from './sign-in.ts';

const ISSUER = 'agent-fleet portal';
const codeForm = z
  .object({
    _csrf: csrfField,
    code: z
      .string()
      .trim()
      .regex(/^[0-9]{6}$/, 'must be the 6 digits your app shows'),
  })
  .strict();
const registrationBody = z.object({ response: z.looseObject({ id: z.string().max(1000) }) }).strict();

/** The enrolling admin of this request, or a 404 (no enrolment in progress here). */
function enrolling(response: express.Response): { admin: AdminRef; enrolmentHash: string } {
  const record = stateOf(response).pre?.record;
  if (record?.stage !== 'enrolling' || !record.clientId || !record.email || !record.enrolmentHash)
    throw notFound();
  return { admin: { clientId: record.clientId, email: record.email }, enrolmentHash: record.enrolmentHash };
}

async function renderSetup(
  context: PortalContext,
  response: express.Response,
  error?: string,
  status = 200,
): Promise<void> {
  const { admin, enrolmentHash } = enrolling(response);
  const progress = await context.enrolment.progress(admin, enrolmentHash);
  const pending = progress.totp ? null : await context.totp.pendingSetup(admin, enrolmentHash, ISSUER, false);
  await renderPage(
    context,
    response,
    'enrol-setup',
    {
      title: 'Set up your sign-in',
      webauthn: true,
      email: admin.email,
      clientId: admin.clientId,
      progress,
      maxPasskeys: MAX_PASSKEYS_PER_ENROLMENT,
      secret: pending?.secret,
      uri: pending?.uri,
      error,
    },
    status,
  );
}

/** Enrolment: open the link (GET, changes nothing), start (POST, uses it), set up a passkey and/or app, finish. */
export function enrolmentRoutes(
  context: PortalContext,
  limiter: express.RequestHandler,
  json: express.RequestHandler,
): express.Router {
  const router = express.Router();
  router.get(
    '/enrol/setup',
    route(async (_request, response) => renderSetup(context, response)),
  );
  router.post(
    '/enrol/app',
    requireCsrf(context, 'pre'),
    route(async (request, response) => {
      parseForm(csrfOnlyForm, request.body);
      const { admin, enrolmentHash } = enrolling(response);
      await context.totp.pendingSetup(admin, enrolmentHash, ISSUER, true);
      response.redirect(303, '/enrol/setup');
    }),
  );
  router.post(
    '/enrol/app/confirm',
    limiter,
    requireCsrf(context, 'pre'),
    route(async (request, response) => {
      const form = parseForm(codeForm, request.body);
      const { admin, enrolmentHash } = enrolling(response);
      if (await context.totp.confirm(admin, enrolmentHash, form.code)) {
        response.redirect(303, '/enrol/setup');
        return;
      }
      await renderSetup(
        context,
        response,
        'code: that code did not match. Enter the code your app shows now.',
        400,
      );
    }),
  );
  router.post(
    '/webauthn/register/options',
    limiter,
    json,
    requireCsrf(context, 'pre'),
    route(async (_request, response) => {
      const { admin, enrolmentHash } = enrolling(response);
      const pre = stateOf(response).pre;
      if (!pre) throw notFound();
      if ((await context.enrolment.progress(admin, enrolmentHash)).passkeys >= MAX_PASSKEYS_PER_ENROLMENT) {
        throw new PageError(
          409,
          'No more passkeys',
          `One set-up holds up to ${MAX_PASSKEYS_PER_ENROLMENT} passkeys. Finish it now; you can add others in a later set-up.`,
        );
      }
      response.json(await context.passkeys.registrationOptions(pre, admin));
    }),
  );
  router.post(
    '/webauthn/register',
    limiter,
    json,
    requireCsrf(context, 'pre'),
    route(async (request, response) => {
      const { admin, enrolmentHash } = enrolling(response);
      const body = registrationBody.safeParse(request.body);
      const pre = stateOf(response).pre;
      if (!body.success || !pre)
        throw new PageError(400, 'Bad request', 'The passkey answer was not understood.', 'response');
      if (
        !(await context.passkeys.register(
          pre,
          admin,
          enrolmentHash,
          body.data.response as unknown as RegistrationResponseJSON,
        ))
      ) {
        throw new PageError(
          400,
          'Passkey not saved',
          'The passkey could not be verified. Try again.',
          'response',
        );
      }
      response.json({ redirect: '/enrol/setup' });
    }),
  );
  router.post(
    '/enrol/finish',
    requireCsrf(context, 'pre'),
    route(async (request, response) => {
      parseForm(csrfOnlyForm, request.body);
      const { admin, enrolmentHash } = enrolling(response);
      if (!(await context.enrolment.finish(admin, enrolmentHash))) {
        await renderSetup(context, response, 'Set up a passkey or an authenticator app first.', 400);
        return;
      }
      await signIn(context, response, admin, 'portal-enrolled');
      response.redirect(303, '/approvals');
    }),
  );
  router.get(
    '/enrol/:token',
    route(async (request, response) => {
      const token = String(request.params['token']);
      const open = await context.enrolment.peek(token);
      if (!open) throw notFound();
      await ensurePre(context, response);
      await renderPage(context, response, 'enrol-start', {
        title: 'Set up your sign-in',
        token,
        email: open.email,
        clientId: open.clientId,
        expiresAt: open.expiresAt.toISOString(),
      });
    }),
  );
  router.post(
    '/enrol/:token',
    limiter,
    requireCsrf(context, 'pre'),
    route(async (request, response) => {
      parseForm(csrfOnlyForm, request.body);
      const used = await context.enrolment.consume(String(request.params['token']));
      if (!used) throw notFound();
      const state = stateOf(response);
      if (state.pre) await context.sessions.end(state.pre);
      const session = await context.sessions.start('enrolling', used.admin, used.enrolmentHash);
      setSessionCookie(response, PRE_COOKIE, session.token);
      await context.gateway.recordAdminEvent(
        used.admin.clientId,
        used.admin.email,
        'portal-enrolment-started',
      );
      response.redirect(303, '/enrol/setup');
    }),
  );
  return router;
}

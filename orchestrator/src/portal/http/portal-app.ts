import express from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import { fileURLToPath } from 'node:url';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { PortalContext } from '../portal-context.ts';
import { formBody, formBodyError } from './form-body.ts';
import { refuseRepeatedFields } from './forms.ts';
import { PageError, notFound } from './page-error.ts';
import { renderPage } from './render.ts';
import { loadSessions } from './request-state.ts';
import { activityRoutes } from './routes-activity.ts';
import { approvalRoutes } from './routes-approvals.ts';
import { controlRoutes } from './routes-controls.ts';
import { reviewRoutes } from './routes-review.ts';
import { identityRoutes } from './routes-identity.ts';
import { settingsRoutes } from './routes-settings.ts';
import { settingsHistoryRoutes } from './routes-settings-history.ts';

const STATIC = fileURLToPath(new URL('../static/', import.meta.url));

function toPageError(error: unknown): PageError | null {
  if (error instanceof PageError) return error;
  const body = formBodyError(error);
  if (body) return body;
  // Other refusals raised before any route (a static file that is not there, a path that does not decode,
  // a body that does not decompress): the person's request, not the portal, is at fault.
  const status = (error as { status?: unknown }).status;
  if (!isFleetError(error) && typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 403 || status === 404) return notFound();
    return new PageError(400, 'The request could not be read', 'Nothing was changed. Check the address, or go back and send the form again.');
  }
  if (isFleetError(error) && (error.code === 'unavailable' || error.code === 'timeout')) {
    return new PageError(
      503,
      'The agent cannot be reached',
      'The agent did not answer just now (it may be stopped or restarting). Nothing was changed; try again in a minute.',
    );
  }
  if (isFleetError(error) && error.code === 'not_found') return notFound();
  return null;
}

/**
 * The portal's express app: strict CSP (scripts and styles from this origin only, no inline script), no
 * framing, no referrer to other sites, sessions resolved on every page, and one error handler that renders pages.
 */
export function createPortalApp(context: PortalContext, options: { behindProxy: boolean }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (options.behindProxy) app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      // DENY, as `frame-ancestors 'none'` says: browsers that read only X-Frame-Options must not let even
      // the portal frame itself (helmet's default is SAMEORIGIN).
      xFrameOptions: { action: 'deny' },
      // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts, which the CSRF check refuses.
      referrerPolicy: { policy: 'same-origin' },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
    }),
  );
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/favicon.ico', (_request, response) => {
    response.status(204).end();
  });
  app.use('/static', express.static(STATIC, { index: false, maxAge: '1h', fallthrough: false }));
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: 600,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // The portal's own page (the library's default is a line of plain text).
      handler: (_request, _response, next) => {
        next(new PageError(429, 'Too many requests', 'Too many requests came from your network in the last minute. Nothing was changed; wait a minute and try again.'));
      },
    }),
  );
  app.use(formBody());
  app.use(loadSessions(context));
  app.use(refuseRepeatedFields);
  app.use(identityRoutes(context));
  app.use(approvalRoutes(context));
  app.use(controlRoutes(context));
  app.use(reviewRoutes(context));
  app.use(activityRoutes(context));
  app.use(settingsRoutes(context));
  app.use(settingsHistoryRoutes(context));
  app.use((_request, _response, next) => next(notFound()));
  app.use(
    (error: unknown, request: express.Request, response: express.Response, _next: express.NextFunction) => {
      if (response.headersSent) {
        context.logger.error('portal response failed after it began', { error, path: request.path });
        response.destroy();
        return;
      }
      // An error page is never a download (a failed export set its attachment headers first), nor kept.
      response.removeHeader('Content-Disposition');
      response.setHeader('Cache-Control', 'no-store');
      const page = toPageError(error);
      if (!page) context.logger.error('portal request failed', { error, path: request.path });
      const status = page?.status ?? 500;
      const title = page?.title ?? 'Something went wrong';
      const message =
        page?.message ??
        'The portal could not do that. Nothing was changed; try again, and tell the agency if it persists.';
      if (request.path.startsWith('/webauthn/')) {
        response.status(status).json({ error: message });
        return;
      }
      if (response.locals['portal'] === undefined)
        response.locals['portal'] = { active: null, admin: null, pre: null };
      renderPage(context, response, 'error', { title, message, status }, status).catch(
        (renderError: unknown) => {
          context.logger.error('portal error page failed', { error: renderError });
          response.status(500).type('text').send('internal error');
        },
      );
    },
  );
  return app;
}

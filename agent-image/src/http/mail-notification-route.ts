import type express from 'express';
import { rateLimit } from 'express-rate-limit';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { parseValidationToken } from '../services/mail-watch/mail-notification.ts';
import type { PushNotificationInput } from '../services/mail-watch/push-sync.ts';
import type { MailNotificationSink } from '../services/runtime/control-api.ts';
import { jsonBodyParser } from './json-body.ts';
import { isUnreadableBody, unreadableBodyMessage } from './unreadable-body.ts';

const NOTIFICATION_PATH = '/v1/mail-notifications';
const NOTIFICATION_BODY_LIMIT = '64kb';
/**
 * One budget for every caller of the public notification route (behind a reverse proxy they all share an
 * address): a flood is refused cheaply, and what a refusal costs is only latency, since polling backfills.
 */
const NOTIFICATIONS_PER_MINUTE = 600;

/** The push URL's `token` query parameter: one bounded string, or null when absent. */
function pushUrlToken(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length > 256) throw new FleetError('invalid_input', 'token must be one string');
  return value;
}

/**
 * Checks a Gmail push's URL token before its body is read (see MailNotificationSink.checkPushToken); Graph's
 * validation handshake carries no token and is answered by the handler.
 */
function pushTokenFirst(sink: MailNotificationSink): express.RequestHandler {
  return (request, _response, next) => {
    try {
      if (request.query['validationToken'] === undefined) sink.checkPushToken(pushUrlToken(request.query['token']));
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * `POST /v1/mail-notifications`: the provider calls it, so no control token; each notification is
 * authenticated by a secret only the provider has (Graph clientState, the Gmail push URL's `token`) and,
 * for Gmail when configured, by the Google-signed OIDC token in its Authorization header.
 * Graph's validation handshake (`?validationToken=`) is answered with the token as text/plain.
 */
export function mountMailNotifications(app: express.Express, sink: MailNotificationSink): void {
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: NOTIFICATIONS_PER_MINUTE,
    keyGenerator: () => 'notifications',
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    message: { code: 'busy', message: 'too many notifications; polling catches up' },
  });
  app.post(NOTIFICATION_PATH, limiter, pushTokenFirst(sink), jsonBodyParser(NOTIFICATION_BODY_LIMIT), (request, response, next) => {
    const handle = async () => {
      const validationToken = request.query['validationToken'];
      if (validationToken !== undefined) {
        if (!sink.acceptsGraphValidation()) throw new FleetError('not_found', 'push notifications are not enabled for this agent');
        // Checked before any header is set: a refused token's error must not go out labelled text/plain.
        const echo = parseValidationToken(validationToken);
        response.status(200).type('text/plain').set('X-Content-Type-Options', 'nosniff').send(echo);
        return;
      }
      const authorization = request.get('authorization') ?? null;
      const input: PushNotificationInput = { body: request.body as unknown, token: pushUrlToken(request.query['token']), authorization };
      const notification = await sink.receiveMailNotification(input);
      // Graph wants 202 within seconds; Pub/Sub acks any 2xx.
      response.status(notification.kind === 'outlook' ? 202 : 204).end();
    };
    handle().catch(next);
  });
  app.use(NOTIFICATION_PATH, (error: unknown, _request: express.Request, response: express.Response, next: express.NextFunction) => {
    if (isUnreadableBody(error)) {
      response.status(400).json({ code: 'invalid_input', message: `notification ${unreadableBodyMessage(error)}` });
      return;
    }
    next(error);
  });
}

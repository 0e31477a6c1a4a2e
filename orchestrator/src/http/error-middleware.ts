import type { ErrorRequestHandler } from 'express';
import { httpStatusOf } from '@agent-fleet/kernel/error-status';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';

/** The one place that turns errors into `{ code, message }` responses. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _request, response, _next) => {
    // A route that had set another type (a streamed export) still answers its error as JSON.
    response.type('application/json');
    if (isFleetError(error)) {
      response.status(httpStatusOf(error.code)).json({ code: error.code, message: error.message });
      return;
    }
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      // express.json() parse errors and oversize bodies.
      response.status(status).json({ code: 'invalid_input', message: (error as Error).message });
      return;
    }
    logger.error('unhandled API error', { error });
    response.status(500).json({ code: 'internal', message: 'internal error' });
  };
}

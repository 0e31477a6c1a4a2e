import type { ErrorRequestHandler } from 'express';
import { isFleetError, type FleetErrorCode } from '@agent-fleet/agent/domain/fleet-error.ts';
import type { Logger } from '@agent-fleet/agent/observability/logger.ts';

const HTTP_STATUS: Record<FleetErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  busy: 409,
  killed: 409,
  integrity: 422,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

/** The one place that turns errors into `{ code, message }` responses. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _request, response, _next) => {
    if (isFleetError(error)) {
      response.status(HTTP_STATUS[error.code]).json({ code: error.code, message: error.message });
      return;
    }
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      // express.json() parse errors and oversize bodies.
      response.status(status).json({ code: 'invalid_input', message: (error as Error).message });
      return;
    }
    logger.error('unhandled API error', { error: (error as Error).message });
    response.status(500).json({ code: 'internal', message: 'internal error' });
  };
}

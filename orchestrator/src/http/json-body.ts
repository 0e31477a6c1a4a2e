import express, { type RequestHandler } from 'express';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The ops API's body parser: JSON up to `limit`, and a body of any other type refused by name. Left to
 * express.json() alone, such a body is skipped unread and the route runs on its defaults: a provision sent
 * as text/plain would create the client on the default config instead of the one it carried.
 */
export function jsonBody(limit: string): RequestHandler[] {
  return [
    (request, _response, next) => {
      // `is` answers null without a body, false for a body of another type; an empty one has no type to check.
      const empty = request.get('content-length') === '0';
      if (!empty && request.is(['application/json', 'application/*+json']) === false) {
        const type = JSON.stringify((request.get('content-type') ?? '').slice(0, 100));
        next(new FleetError('invalid_input', `the request body must be JSON (Content-Type: application/json), not ${type}`));
        return;
      }
      next();
    },
    express.json({ limit }),
  ];
}

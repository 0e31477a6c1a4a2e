import type express from 'express';
import type * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** An async handler of the control API. */
export type Handler = (request: express.Request, response: express.Response) => Promise<void>;

/** Wraps a handler into an express handler (control-server.ts gives the one that checks the control token). */
export type Route = (handler: Handler) => express.RequestHandler;

/** Parses untrusted input; FleetError('invalid_input') naming each field otherwise. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new FleetError(
      'invalid_input',
      result.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; '),
    );
  }
  return result.data;
}

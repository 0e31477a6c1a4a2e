import type * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** Validates an untrusted request body, naming every bad field at once. */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  throw new FleetError('invalid_input', `invalid request: ${issues.join('; ')}`);
}

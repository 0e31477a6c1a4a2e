import * as z from 'zod';
import { badField } from './page-error.ts';

/**
 * Checks a submitted form against its schema: the first problem becomes a 400 naming the field. Unknown
 * fields are refused too, so that a form cannot carry more than the page offered.
 */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field =
    issue?.code === 'unrecognized_keys' ? (issue.keys[0] ?? 'form') : String(issue?.path[0] ?? 'form');
  throw badField(
    field,
    issue?.code === 'unrecognized_keys' ? 'is not a field of this form' : (issue?.message ?? 'is not valid'),
  );
}

/** Text of 1..max characters after trimming. */
export const requiredText = (max: number) =>
  z.string({ error: 'is required' }).trim().min(1, 'is required').max(max, `is limited to ${max} characters`);

export const optionalText = (max: number) =>
  z.string().max(max, `is limited to ${max} characters`).optional();

/** The CSRF field every state-changing form carries (its value is checked against the session). */
export const csrfField = z.string().max(200, 'is not valid');

/** A path inside the portal to return to after sign-in, never another site. */
export const nextPath = z
  .string()
  .max(700, 'is not valid')
  .regex(/^\/(?![/\\])[A-Za-z0-9/_.~?&=%+-]*$/, 'is not a portal address')
  .optional();

/** `YYYY-MM-DD`, a real date. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-01-31')
  .refine(
    (value) =>
      !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
      new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
    'is not a date',
  );

/** Comma- or line-separated addresses, each a plain address. */
export const addressList = (max: number) =>
  z
    .string()
    .max(20_000, 'is too long')
    .transform((value) =>
      value
        .split(/[,;\n]/)
        .map((part) => part.trim())
        .filter((part) => part !== ''),
    )
    .refine((list) => list.length <= max, `has more than ${max} addresses`)
    .refine(
      (list) => list.every((address) => /^[^\s@<>()",;]{1,64}@[^\s@<>()",;]{1,255}$/.test(address)),
      'must be email addresses separated by commas',
    );

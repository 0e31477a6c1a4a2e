import type express from 'express';
import * as z from 'zod';
import { safeText } from '@agent-fleet/kernel/client-config';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { badField } from './page-error.ts';

/**
 * The first field of a parsed form or query string that did not arrive exactly once (`a=1&a=2` parses to
 * a list), or undefined. No portal form has such a field: read as one value, a repeated checkbox or text
 * field would count as unticked or empty, and a repeated block list would save as an empty one.
 */
export function repeatedField(fields: unknown): string | undefined {
  if (typeof fields !== 'object' || fields === null) return undefined;
  return Object.keys(fields).find((name) => typeof (fields as Record<string, unknown>)[name] !== 'string');
}

/** Refuses a form with a repeated field before any route reads it (a 400 naming the field). */
export function refuseRepeatedFields(
  request: express.Request,
  _response: express.Response,
  next: express.NextFunction,
): void {
  const field = repeatedField(request.body);
  next(field === undefined ? undefined : badField(field, 'was sent more than once'));
}

/**
 * Plain words for what a field's own schema does not word itself (zod's defaults name types and patterns):
 * a field the page always sends but that is missing, a value of the wrong kind, a choice not offered.
 */
function plainIssue(issue: z.core.$ZodRawIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is missing: reload the page and send the form again';
  if (issue.code === 'invalid_value') return 'is not one of the choices offered';
  if (issue.code === 'too_big' && issue.origin === 'string') return `is limited to ${String(issue.maximum)} characters`;
  if (issue.code === 'too_small' && issue.origin === 'string') return 'is required';
  return 'is not valid';
}

/**
 * Checks a submitted form against its schema: the first problem becomes a 400 naming the field. Unknown
 * fields are refused too, so that a form cannot carry more than the page offered, and so are repeated ones.
 */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): T {
  const repeated = repeatedField(body);
  if (repeated !== undefined) throw badField(repeated, 'was sent more than once');
  const result = schema.safeParse(body ?? {}, { error: plainIssue });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field =
    issue?.code === 'unrecognized_keys' ? (issue.keys[0] ?? 'form') : String(issue?.path[0] ?? 'form');
  throw badField(
    field,
    issue?.code === 'unrecognized_keys' ? 'is not a field of this form' : (issue?.message ?? 'is not valid'),
  );
}

/** Browsers send a textarea's line breaks as CRLF. */
const crlfAsLf = (value: string) => value.replace(/\r\n/g, '\n');

/**
 * Text a person typed that the agency reads (reasons: in the ops log, the CLI, alerts): 1..max characters
 * after trimming, line breaks as LF, and no character a terminal or log would act on or that hides what the
 * text says (control characters, bidirectional overrides, invisible characters; the kernel's rule for free
 * text). Line breaks and tabs only when `multiLine` (a textarea).
 */
export const requiredText = (max: number, options: { multiLine?: boolean } = {}) =>
  z
    .string({ error: 'is required' })
    .overwrite(crlfAsLf)
    .trim()
    .min(1, 'is required')
    .max(max, `is limited to ${max} characters`)
    .superRefine(safeText({ multiLine: options.multiLine === true }));

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/**
 * Optional text of an email the admin edits (subject, body), line breaks as LF: no control character, so
 * that nothing in it can end a header line or steer a terminal; line breaks and tabs only when `multiLine`.
 * Other characters are left as they are (a draft may quote a correspondent's text the admin cannot see).
 */
export const optionalText = (max: number, options: { multiLine?: boolean } = {}) =>
  z
    .string()
    .overwrite(crlfAsLf)
    .max(max, `is limited to ${max} characters`)
    .superRefine((value, context) => {
      let position = 0;
      for (const character of value) {
        position += 1;
        if (options.multiLine === true && (character === '\n' || character === '\t')) continue;
        if (!CONTROL.test(character)) continue;
        const code = (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
        const what = character === '\n' || character === '\r' || code === '2028' || code === '2029' ? 'a line break' : 'a control character';
        context.addIssue({ code: 'custom', message: `must not contain U+${code} (${what}), found at character ${position}` });
        return;
      }
    })
    .optional();

/** The CSRF field every state-changing form carries (its value is checked against the session). */
export const csrfField = z.string().max(200, 'is not valid');

/** A form that is only a button (sign out, start or finish a set-up, narrow the consent): no other field. */
export const csrfOnlyForm = z.object({ _csrf: csrfField }).strict();

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

/**
 * Comma- or line-separated addresses, each a plain `user@example.com` by the kernel's one address rule
 * (lower-cased); the first one that is not is named.
 */
export const addressList = (max: number) =>
  z
    .string()
    .max(20_000, 'is too long')
    .transform((value, context) => {
      const parts = value
        .split(/[,;\r\n]/)
        .map((part) => part.trim())
        .filter((part) => part !== '');
      const addresses: string[] = [];
      for (const part of parts) {
        const address = normaliseAddress(part);
        if (address === undefined) {
          context.addIssue({
            code: 'custom',
            message: `must be email addresses separated by commas (“${JSON.stringify(part).slice(1, -1).slice(0, 60)}” is not one)`,
          });
          return z.NEVER;
        }
        addresses.push(address);
      }
      return addresses;
    })
    .refine((list) => list.length <= max, `has more than ${max} addresses`);

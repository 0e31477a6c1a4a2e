import * as z from 'zod';
import { safeText } from '@agent-fleet/kernel/client-config';
import { GUARD_RAIL_ID, MAX_GUARD_RAIL_CONFIRMATIONS, MAX_GUARD_RAIL_ID } from '../services/provision-guard-rails.ts';

/**
 * Free text a person typed (a reason, a note, a summary): trimmed, 1..max characters, and no character a
 * terminal, log or report would act on or that hides what the text says (control characters,
 * bidirectional overrides, invisible characters: the kernel's rule for free text). Line breaks and tabs
 * only where `multiLine`. It is printed back in `fleet` output, the ops log, alerts and the client portal.
 */
export function freeText(max: number, options: { multiLine?: boolean; required?: string } = {}) {
  return z
    .string()
    .trim()
    .min(1, options.required ?? 'is required')
    .max(max)
    .superRefine(safeText({ multiLine: options.multiLine === true }));
}

/** A whole number in plain decimal digits (a path segment or query value): not `1e3`, `0x10`, ` 2` or `2.0`. */
export const decimalNumber = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a whole number in digits, such as 3')
  .transform(Number);

/** Who did it, for the ops log: a short printable name, never free text from an email. */
export const actorSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\w.@:+-]+$/, 'actor may contain letters, digits and . @ : + - _');

export const provisionBodySchema = z
  .object({
    /** The client's config YAML; default: safe defaults for the client. */
    config: z.string().max(1024 * 1024).optional(),
    actor: actorSchema.default('api'),
    /** The runtime the caller expects; the service refuses one that is not its own. */
    runtime: z.enum(['docker', 'kubernetes']).optional(),
    /** Guard rails (by id) the config crosses that the actor accepts; the service refuses one it does not cross. */
    confirm: z
      .array(z.string().max(MAX_GUARD_RAIL_ID).regex(GUARD_RAIL_ID, 'must be a guard-rail id, such as permissions.mail.send'))
      .max(MAX_GUARD_RAIL_CONFIRMATIONS)
      .default([]),
  })
  .strict();

export const deprovisionBodySchema = z
  .object({
    purge: z.boolean().default(false),
    reason: freeText(500, { multiLine: true }).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

export const reasonedActionSchema = z
  .object({
    reason: freeText(500, { multiLine: true, required: 'a reason is required' }),
    actor: actorSchema.default('api'),
  })
  .strict();

export const secretBodySchema = z
  .object({
    value: z.string().min(1).max(64 * 1024),
    actor: actorSchema.default('api'),
  })
  .strict();

export const approvalDecisionSchema = z
  .object({
    decision: z.enum(['approve', 'edit', 'reject']),
    /** The client admin who decided (an authenticated principal of the caller, not free text from email). */
    by: freeText(200),
    reason: freeText(1000, { multiLine: true }).optional(),
    arguments: z.unknown().optional(),
    actor: actorSchema.default('api'),
  })
  .strict()
  .superRefine((body, context) => {
    if (body.decision === 'reject' && !body.reason) context.addIssue({ code: 'custom', path: ['reason'], message: 'a rejection needs a reason' });
    if (body.decision === 'edit' && body.arguments === undefined) {
      context.addIssue({ code: 'custom', path: ['arguments'], message: 'an edit carries the edited arguments' });
    }
  });

export const actorOnlySchema = z.object({ actor: actorSchema.default('api') }).strict();

/** `GET /clients/:id/mailbox-consent`: which provider the consent is for (the mailbox's, or the CRM). */
export const mailboxConsentQuerySchema = z.object({ provider: z.enum(['gmail', 'outlook', 'bullhorn']) }).strict();

export const auditExportQuerySchema = z.object({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  /** The team member reading: needs an active support grant for the client. */
  actor: actorSchema.default('api'),
});

export const supportRequestBodySchema = z
  .object({
    /** Who the access is for; default: the actor. */
    member: actorSchema.optional(),
    incident: freeText(64),
    reason: freeText(500, { multiLine: true, required: 'a reason is required' }),
    hours: z.number().int().min(1).max(24).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

/**
 * `POST /clients/:id/settings/confirmations` (`fleet config confirm`): a guard rail the client's current
 * settings cross, accepted by the actor. The service refuses an id that is no rail, listing the rails.
 */
export const guardRailConfirmBodySchema = z
  .object({
    rail: z.string().trim().min(1).max(MAX_GUARD_RAIL_ID),
    reason: freeText(1000, { multiLine: true }).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

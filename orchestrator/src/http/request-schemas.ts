import * as z from 'zod';

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
  })
  .strict();

export const deprovisionBodySchema = z
  .object({
    purge: z.boolean().default(false),
    reason: z.string().trim().min(1).max(500).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

export const reasonedActionSchema = z
  .object({
    reason: z.string().trim().min(1, 'a reason is required').max(500),
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
    by: z.string().trim().min(1).max(200),
    reason: z.string().trim().min(1).max(1000).optional(),
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
    incident: z.string().trim().min(1).max(64),
    reason: z.string().trim().min(1, 'a reason is required').max(500),
    hours: z.number().int().min(1).max(24).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

import { z } from 'zod';

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
  })
  .strict();

export const deprovisionBodySchema = z
  .object({
    purge: z.boolean().default(false),
    reason: z.string().trim().min(1).max(500).optional(),
    actor: actorSchema.default('api'),
  })
  .strict();

import * as z from 'zod';
import { TEMPLATE_ID_RULE, TEMPLATE_TYPES } from '@agent-fleet/kernel/client-config';

/**
 * What the model may return for a reply that could be auto-sent: the type, the template and the values
 * of the two slots it may propose. Nothing else (no text, no recipient, no subject) fits the schema;
 * the subject and the signature are filled by code. Every value is validated again by code
 * (slot-validators.ts) before anything is rendered. A reply that needs other text is a free-form draft,
 * which needs approval whatever its type.
 */
export const templateReplyChoiceSchema = z
  .object({
    type: z.enum(TEMPLATE_TYPES),
    templateId: z.string().regex(TEMPLATE_ID_RULE),
    slots: z
      .object({
        /** The correspondent's name as the contact record or the From display name gives it. */
        correspondentName: z.string().min(1).max(200).optional(),
        /** The start of one of the offered free slots, ISO 8601 with an offset. */
        proposedTime: z.string().min(1).max(64).optional(),
      })
      .strict(),
  })
  .strict();

export type TemplateReplyChoice = z.output<typeof templateReplyChoiceSchema>;

import * as z from 'zod';

/**
 * The client's settings for replies the agent may send without approval (part of the client config).
 * Auto-sent replies come from templates whose slots code fills and validates; the model only chooses the
 * template and the slot values. Free model text is auto-sent only for a type the client opted in to
 * explicitly, restating the risk below word for word; the defaults never do.
 */

/** Email types that have reply templates (the spec's routine responses). */
export const TEMPLATE_TYPES = ['acknowledgement', 'scheduling_confirmation', 'follow_up'] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

/** Placeholders a template may use, written `{{name}}`. Each is filled and validated by code. */
export const TEMPLATE_SLOTS = ['correspondentName', 'proposedTime', 'originalSubject', 'signature'] as const;
export type TemplateSlot = (typeof TEMPLATE_SLOTS)[number];

/** Languages the built-in templates come in. */
export const REPLY_LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'nl'] as const;
export type ReplyLanguage = (typeof REPLY_LANGUAGES)[number];

/** Template ids: lower-case letters, digits, "-" and "_", 1-40 characters. */
export const TEMPLATE_ID_RULE = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/**
 * What opting a type in to free-text auto-send means. The config entry must carry it verbatim, so the
 * step cannot be taken without reading it; the opt-in is then recorded (ops log, daily summary).
 */
export const FREE_TEXT_AUTO_SEND_RISK =
  'Replies of this type will be written freely by the AI model and sent without my approval. ' +
  'The text of an incoming email can steer what the model writes, so a malicious sender could make ' +
  'the assistant send content of their choosing in my name. I accept this risk.';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Problems with a template body: unknown placeholders, stray braces, control characters. */
export function templateBodyIssues(body: string): string[] {
  const issues: string[] = [];
  for (const match of body.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!(TEMPLATE_SLOTS as readonly string[]).includes(name)) issues.push(`unknown placeholder {{${name}}}; use ${TEMPLATE_SLOTS.join(', ')}`);
  }
  if (/[{}]/.test(body.replace(PLACEHOLDER, ''))) issues.push('braces are only allowed around a placeholder, e.g. {{correspondentName}}');
  // Tab and line feed are the only control characters a plain-text reply needs.
  if (/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(body)) issues.push('must not contain control or bidirectional-override characters');
  return issues;
}

/** The placeholders a template body uses, each once, in order of first use. */
export function templatePlaceholders(body: string): TemplateSlot[] {
  const found: TemplateSlot[] = [];
  for (const match of body.matchAll(PLACEHOLDER)) {
    const name = (match[1] ?? '') as TemplateSlot;
    if ((TEMPLATE_SLOTS as readonly string[]).includes(name) && !found.includes(name)) found.push(name);
  }
  return found;
}

const templateSchema = z
  .object({
    /** Id the model names when it picks this template. Overrides a built-in template of the same id. */
    id: z.string().regex(TEMPLATE_ID_RULE, 'must be 1-40 lower-case letters, digits, "-" or "_"'),
    /** The email type this template answers. */
    type: z.enum(TEMPLATE_TYPES),
    /** Plain-text body with {{placeholders}}, in the client's language. */
    body: z
      .string()
      .min(1)
      .max(2000)
      .superRefine((body, context) => {
        for (const issue of templateBodyIssues(body)) context.addIssue({ code: 'custom', message: issue });
      }),
  })
  .strict();

const freeTextOptInSchema = z
  .object({
    /** The auto-send type whose replies may be free model text. */
    type: z.enum(TEMPLATE_TYPES),
    /** FREE_TEXT_AUTO_SEND_RISK, word for word. */
    acceptedRisk: z.literal(FREE_TEXT_AUTO_SEND_RISK, { message: 'must restate FREE_TEXT_AUTO_SEND_RISK word for word' }),
    /** Who opted in (a client admin). */
    acceptedBy: z.string().trim().min(1).max(320),
    /** When (ISO 8601). */
    acceptedAt: z.iso.datetime({ offset: true }),
  })
  .strict();

export const autoReplyConfigSchema = z
  .object({
    /** Language of the built-in templates and of dates in replies. Default "en". */
    language: z.enum(REPLY_LANGUAGES).default('en'),
    /** Text of {{signature}}, e.g. "Dana Smith\nAcme Ltd". Default: none (the line is left out). */
    signature: z
      .string()
      .max(300)
      .refine((text) => templateBodyIssues(text).length === 0 && !text.includes('{{'), 'must be plain text without braces or control characters')
      .default(''),
    /** Client-edited templates; built-in ones remain for every type unless overridden by id. Default none. */
    templates: z
      .array(templateSchema)
      .max(50)
      .refine((list) => new Set(list.map((template) => template.id)).size === list.length, 'template ids must be unique')
      .default([]),
    /** Types whose replies may be auto-sent as free model text. Default none: templates only. */
    freeTextAutoSend: z
      .array(freeTextOptInSchema)
      .max(TEMPLATE_TYPES.length)
      .refine((list) => new Set(list.map((entry) => entry.type)).size === list.length, 'a type can be opted in once')
      .default([]),
  })
  .strict()
  .default({ language: 'en', signature: '', templates: [], freeTextAutoSend: [] });

export type AutoReplyConfig = z.output<typeof autoReplyConfigSchema>;

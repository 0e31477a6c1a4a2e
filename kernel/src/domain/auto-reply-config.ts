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

/**
 * Characters refused in config text that people read or a model is given (names, notes, templates,
 * signatures), each with what it is:
 * - C0 and C1 control characters and DEL: they end a mail header line, drive a terminal, or hide text;
 *   a multi-line field may hold line feed and tab, and nothing else of them (no carriage return);
 * - line and paragraph separators (U+2028, U+2029): line breaks a one-line field must not hold either;
 * - bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the deprecated
 *   format controls after them (U+206A–U+206F): they make text display in another order than it is
 *   stored ("Trojan Source"), e.g. a name that reads as someone else's;
 * - invisible characters with no place in text (zero-width space U+200B, word joiner and invisible
 *   operators U+2060–U+2064, byte-order mark U+FEFF, tag characters U+E0000–U+E007F): they hide words
 *   from the reader that a model still reads, or make two names look alike.
 * Letters of every script are fine, and so are the zero-width joiner and non-joiner (U+200C, U+200D),
 * which Persian, Indic scripts and emoji need, and the left-to-right / right-to-left marks (U+200E,
 * U+200F, U+061C), which mixed Arabic or Hebrew text needs and which reorder nothing by themselves.
 */
const UNSAFE_CHARACTER =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u206f\u200b\u2060-\u2064\ufeff\u{e0000}-\u{e007f}]|\p{Surrogate}/u;

function unsafeCharacterKind(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  if (code === 0x0a || code === 0x2028 || code === 0x2029) return 'a line break';
  if (code === 0x0d) return 'a carriage return; end lines with \\n alone';
  if (code === 0x09) return 'a tab';
  if (code <= 0x9f) return 'a control character';
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x206f)) return 'a bidirectional override';
  if (code >= 0xd800 && code <= 0xdfff) return 'half of a surrogate pair, i.e. not valid Unicode';
  return 'an invisible character';
}

/**
 * Why `text` may not be shown to people or given to a model (the first character refused, by code point
 * and position, so it can be found), or undefined when it is fine. `multiLine` fields may hold \n and \t.
 */
export function unsafeTextIssue(text: string, options: { multiLine: boolean }): string | undefined {
  let position = 0;
  for (const character of text) {
    position += 1;
    if (options.multiLine && (character === '\n' || character === '\t')) continue;
    if (!UNSAFE_CHARACTER.test(character)) continue;
    const code = (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain U+${code} (${unsafeCharacterKind(character)}), found at character ${position}`;
  }
  return undefined;
}

/**
 * `text` with every character unsafeTextIssue refuses in any field (line feed and tab too) written as
 * `\u{…}`: for quoting what a document holds (an unknown key, a tag) in a problem line, which goes to a
 * terminal, the API and the logs; a quoted line feed would otherwise start a problem line of its own.
 */
export function shownInert(text: string): string {
  let shown = '';
  for (const character of text) {
    shown += UNSAFE_CHARACTER.test(character) ? `\\u{${(character.codePointAt(0) ?? 0).toString(16)}}` : character;
  }
  return shown;
}

/** A zod string check: the field's text passes unsafeTextIssue (its message names the field by path). */
export function safeText(options: { multiLine: boolean }) {
  return (text: string, context: z.core.$RefinementCtx<string>): void => {
    const issue = unsafeTextIssue(text, options);
    if (issue !== undefined) context.addIssue({ code: 'custom', message: issue });
  };
}

/** Problems with a template body: unknown placeholders, stray braces, unsafe characters. */
export function templateBodyIssues(body: string): string[] {
  const issues: string[] = [];
  for (const match of body.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!(TEMPLATE_SLOTS as readonly string[]).includes(name)) issues.push(`unknown placeholder {{${name}}}; use ${TEMPLATE_SLOTS.join(', ')}`);
  }
  if (/[{}]/.test(body.replace(PLACEHOLDER, ''))) issues.push('braces are only allowed around a placeholder, e.g. {{correspondentName}}');
  // Tab and line feed are the only control characters a plain-text reply needs.
  const unsafe = unsafeTextIssue(body, { multiLine: true });
  if (unsafe !== undefined) issues.push(unsafe);
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
    acceptedBy: z.string().trim().min(1).max(320).superRefine(safeText({ multiLine: false })),
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
      .superRefine((text, context) => {
        const unsafe = unsafeTextIssue(text, { multiLine: true });
        if (unsafe !== undefined) context.addIssue({ code: 'custom', message: unsafe });
        else if (/[{}]/.test(text)) context.addIssue({ code: 'custom', message: 'must be plain text without braces' });
      })
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

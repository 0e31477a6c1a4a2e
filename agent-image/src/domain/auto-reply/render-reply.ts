import { templatePlaceholders, type AutoReplyConfig, type ReplyLanguage, type TemplateSlot } from '@agent-fleet/kernel/client-config';
import { replySubject } from '../reply-subject.ts';
import { defaultTemplates, type ReplyTemplate } from './default-templates.ts';
import {
  correspondentNameCandidates,
  formatSlotTime,
  normaliseOriginalSubject,
  validateCorrespondentName,
  validateProposedTime,
  type FreeSlot,
} from './slot-validators.ts';
import { templateReplyChoiceSchema, type TemplateReplyChoice } from './template-choice.ts';

/**
 * Renders a template reply from the model's choice, and only when every slot validates. The result is a
 * pure function of the choice, the client's templates and the trusted context, so the policy gate can
 * render it again and prove that what is about to be sent is exactly this and nothing else.
 */

/** The client's templates by id: the built-in ones of its language, overridden or extended by its own. */
export type TemplateSet = ReadonlyMap<string, ReplyTemplate>;

export function compileTemplates(autoReply: Pick<AutoReplyConfig, 'language' | 'templates'>): TemplateSet {
  const set = new Map<string, ReplyTemplate>();
  for (const template of defaultTemplates(autoReply.language)) set.set(template.id, template);
  for (const template of autoReply.templates) set.set(template.id, template);
  return set;
}

/** What code (never the model) knows when a reply is rendered. */
export type TemplateReplyContext = {
  language: ReplyLanguage;
  /** IANA time zone dates are written in. */
  timeZone: string;
  /** The client's signature (may be empty). */
  signature: string;
  /** The subject of the message answered, as received. */
  originalSubject: string;
  /** Where a name may come from: the contact record's name, the From display name. */
  nameSources: readonly (string | null | undefined)[];
  /** Free intervals of the client's own calendar that a reply may offer. */
  freeSlots: readonly FreeSlot[];
  now: Date;
};

export type RenderedReply = {
  type: TemplateReplyChoice['type'];
  templateId: string;
  /** The reply's subject: "Re: " and the normalised original subject. */
  subject: string;
  body: string;
};

export type RenderResult = { ok: true; reply: RenderedReply } | { ok: false; issues: string[] };

/** Validates the model's choice (untrusted) and renders the reply, or lists every reason it cannot. */
export function renderTemplateReply(choice: unknown, templates: TemplateSet, context: TemplateReplyContext): RenderResult {
  const parsed = templateReplyChoiceSchema.safeParse(choice);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  }
  const { type, templateId, slots } = parsed.data;
  const template = templates.get(templateId);
  if (template === undefined) return { ok: false, issues: [`no template "${templateId}"`] };
  if (template.type !== type) return { ok: false, issues: [`template "${templateId}" answers ${template.type}, not ${type}`] };

  const used = templatePlaceholders(template.body);
  const issues: string[] = [];
  for (const proposed of Object.keys(slots) as TemplateSlot[]) {
    if (!used.includes(proposed)) issues.push(`${proposed} is not a slot of template "${templateId}"`);
  }
  const values: Partial<Record<TemplateSlot, string>> = { signature: context.signature };
  const subject = normaliseOriginalSubject(context.originalSubject);
  // The reply's own subject quotes it too, so it must validate whether or not the body uses it.
  if (subject.ok) values.originalSubject = subject.value;
  else issues.push(subject.issue);
  if (used.includes('correspondentName')) {
    if (slots.correspondentName === undefined) issues.push('correspondentName is missing');
    else {
      const name = validateCorrespondentName(slots.correspondentName, correspondentNameCandidates(context.nameSources));
      if (name.ok) values.correspondentName = name.value;
      else issues.push(name.issue);
    }
  }
  if (used.includes('proposedTime')) {
    if (slots.proposedTime === undefined) issues.push('proposedTime is missing');
    else {
      const slot = validateProposedTime(slots.proposedTime, context.freeSlots, context.now);
      if (slot.ok) values.proposedTime = formatSlotTime(slot.value, context.language, context.timeZone);
      else issues.push(slot.issue);
    }
  }
  if (issues.length > 0 || !subject.ok) return { ok: false, issues };

  const body = template.body
    .replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_match, name: string) => values[name as TemplateSlot] ?? '')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { ok: true, reply: { type, templateId, subject: replySubject(subject.value), body } };
}

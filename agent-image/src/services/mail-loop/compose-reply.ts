import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { compileTemplates, renderTemplateReply, type TemplateSet } from '../../domain/auto-reply/render-reply.ts';
import { correspondentNameCandidates } from '../../domain/auto-reply/slot-validators.ts';
import { templateAnswers } from '../../domain/auto-reply/template-answers.ts';
import { visibleBody, withoutHiddenCharacters } from '../../domain/auto-reply/visible-text.ts';
import type { FreeSlot } from '../../domain/auto-reply/slot-validators.ts';
import type { StoredTemplateReply } from '../runtime/agent-state-store.ts';
import type { DraftReply, OfferedTemplate } from '../../ports/llm-client.ts';
import { replySubject, type MailMessage } from '../../ports/mail-provider.ts';

/**
 * Turns the drafter's answer into the reply that is drafted. A template choice is rendered by code from
 * the client's templates and the trusted facts, every slot validated (render-reply.ts); the gate renders
 * it again before any auto-send. A choice that does not validate becomes a free-form draft that needs
 * approval: the template with the model's unvalidated values shown as they are, so the approver sees what
 * was proposed. A free-form answer keeps its body but for characters no reader sees (visible-text.ts); the
 * subject is always derived from the message, never the model's. Pure.
 */

export type ComposedReply = {
  kind: 'template' | 'free_form';
  subject: string;
  body: string;
  /**
   * The type the send is proposed with: the template's when its type answers the triage's (template-answers.ts)
   * and the triage's is not one that always needs approval; otherwise the triage's.
   */
  emailType: string;
  /** For a template answer: the model's choice and the facts the gate checks it against. */
  template?: StoredTemplateReply;
  templateId?: string;
  /** Why a template choice did not validate (empty when it did, or for free form). */
  issues: string[];
};

/** The trusted facts of a template reply (TemplateFacts), in the form they are kept in. */
export type TemplateFacts = StoredTemplateReply['facts'];

export type ComposeInput = {
  message: MailMessage;
  /** The triage's classification of the message. */
  triageType: string;
  config: ClientConfig;
  facts: TemplateFacts;
  now: Date;
};

/**
 * The trusted facts a template reply to this message is rendered from: the name may come from the
 * client's CRM record of the sender (`contactName`) or the From display name. Pure.
 */
/**
 * The facts a template reply is rendered from, kept with the message's progress (the gate renders from
 * them again). Bounded to what the state store keeps: a subject or display name is the sender's to make
 * as long as it likes, and the validators refuse far shorter ones anyway.
 */
export function templateFacts(message: MailMessage, freeSlots: FreeSlot[], contactName: string | null = null): TemplateFacts {
  const name = (value: string | null | undefined) => (value === null || value === undefined ? null : value.slice(0, MAX_KEPT_NAME));
  return { originalSubject: message.subject.slice(0, MAX_KEPT_SUBJECT), nameSources: [name(contactName), name(message.from?.name)], freeSlots };
}

const MAX_KEPT_SUBJECT = 10_000;
const MAX_KEPT_NAME = 1000;

/**
 * The templates the drafter is offered for mail of the triage's type: those of the client's auto-send types
 * that answer that type (others would only be held).
 */
export function offeredTemplates(config: ClientConfig, triageType: string, templates: TemplateSet = compileTemplates(config.autoReply)): OfferedTemplate[] {
  return [...templates.values()].filter((template) => (config.autoSendTypes as readonly string[]).includes(template.type) && templateAnswers(template.type, triageType));
}

/** The names a template may greet with, for the drafter's prompt. */
export function nameCandidatesOf(facts: TemplateFacts): string[] {
  return correspondentNameCandidates(facts.nameSources);
}

/** The reply; `unusable` with the issues when a template answer names no template of the client. */
export function composeReply(answer: DraftReply, input: ComposeInput): ComposedReply | { unusable: string[] } {
  const { message, triageType, config, facts, now } = input;
  if (answer.kind === 'free_form') {
    // The approver reads the draft as shown: what it does not show must not go out with it.
    const body = visibleBody(answer.body);
    if (body.trim() === '') return { unusable: ['the body holds no visible text'] };
    return { kind: 'free_form', subject: draftSubject(message.subject), body, emailType: triageType, issues: [] };
  }
  const templates = compileTemplates(config.autoReply);
  const rendered = renderTemplateReply(answer.choice, templates, {
    language: config.autoReply.language,
    timeZone: config.timezone,
    signature: config.autoReply.signature,
    ...facts,
    now,
  });
  const template = { choice: answer.choice, facts };
  if (rendered.ok) {
    const alwaysApproval = (config.alwaysApprovalTypes as readonly string[]).includes(triageType);
    const { reply } = rendered;
    const emailType = alwaysApproval || !templateAnswers(reply.type, triageType) ? triageType : reply.type;
    return { kind: 'template', subject: reply.subject, body: reply.body, emailType, template, templateId: reply.templateId, issues: [] };
  }
  const chosen = templates.get(answer.choice.templateId);
  if (chosen === undefined) return { unusable: rendered.issues };
  const values: Record<string, string> = {
    correspondentName: oneLine(answer.choice.slots.correspondentName ?? '[name]'),
    proposedTime: oneLine(answer.choice.slots.proposedTime ?? '[time]'),
    originalSubject: oneLine(message.subject),
    signature: config.autoReply.signature,
  };
  const body = visibleBody(chosen.body.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_match, name: string) => values[name] ?? '')).trim();
  return { kind: 'template', subject: draftSubject(message.subject), body, emailType: triageType, template, templateId: chosen.id, issues: rendered.issues };
}

/** The longest subject a drafted reply gets, characters: RFC 5322's line limit, far below what the gate parses. */
export const MAX_DRAFT_SUBJECT = 998;

/**
 * The subject of a reply that a person approves: the message's, as a reply, without characters no reader
 * sees, and cut to MAX_DRAFT_SUBJECT (a sender may write a subject of any length; whole, it would make the
 * draft one the gate cannot parse, and the message would go to review for nothing). Pure.
 */
export function draftSubject(subject: string): string {
  const visible = withoutHiddenCharacters(replySubject(subject).replace(/[\t\v\f]/g, ' '));
  if (visible.length <= MAX_DRAFT_SUBJECT) return visible;
  // Code points of the first units only: enough to cut at, whatever the subject's length.
  const characters = Array.from(visible.slice(0, 2 * MAX_DRAFT_SUBJECT));
  if (characters.length <= MAX_DRAFT_SUBJECT && visible.length <= 2 * MAX_DRAFT_SUBJECT) return visible;
  return `${characters.slice(0, MAX_DRAFT_SUBJECT - 1).join('')}…`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

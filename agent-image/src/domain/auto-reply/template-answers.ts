import type { TemplateType } from '@agent-fleet/kernel/client-config';

/**
 * Which messages a template type answers, by the triage's type of the message. A template reply is sent
 * under its own type (an auto-send type), so this is the one place a message's type may become an
 * auto-send one: only where the template is the natural answer to that kind of message (a meeting request
 * confirmed, routine mail acknowledged). Any other message (a complaint, a question, a legal letter, spam,
 * mail the triage could not place) keeps its own type, so a template chosen for it is held like free text.
 */
const ANSWERED_TRIAGE_TYPES: Readonly<Record<TemplateType, readonly string[]>> = {
  acknowledgement: ['acknowledgement', 'routine'],
  scheduling_confirmation: ['scheduling_confirmation', 'scheduling'],
  follow_up: ['follow_up'],
};

/** Whether a reply of template type `templateType` answers mail the triage classified as `triageType`. Pure. */
export function templateAnswers(templateType: TemplateType, triageType: string): boolean {
  return ANSWERED_TRIAGE_TYPES[templateType].includes(triageType);
}

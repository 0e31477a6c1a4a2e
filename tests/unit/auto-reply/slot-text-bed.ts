import { compileTemplates, type TemplateReplyContext } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';

/** The built-in English templates, as the slot-text tests render them. */
export const templates = compileTemplates({ language: 'en', templates: [] });

/** The context a template reply is rendered in: a London client, the sender named "Dana Scully" by their display name. */
export function slotContext(overrides: Partial<TemplateReplyContext> = {}): TemplateReplyContext {
  return {
    language: 'en',
    timeZone: 'Europe/London',
    signature: 'Sam Owner',
    originalSubject: 'Invoice 7',
    nameSources: [null, 'Dana Scully'],
    freeSlots: [],
    now: new Date('2025-06-02T10:00:00Z'),
    ...overrides,
  };
}

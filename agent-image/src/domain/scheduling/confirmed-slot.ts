import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { compileTemplates, renderTemplateReply } from '../auto-reply/render-reply.ts';
import { correspondentNameCandidates, validateProposedTime, type FreeSlot } from '../auto-reply/slot-validators.ts';
import { templateReplyChoiceSchema } from '../auto-reply/template-choice.ts';
import type { TemplateFacts } from '../policy/auto-send-rules.ts';
import { zonedIso } from '../zoned-time.ts';

/**
 * A scheduling confirmation agrees to a time: the correspondent accepted one of the slots the agent
 * offered, or proposed one that is free, and the reply is the `scheduling_confirmation` template whose
 * `proposedTime` validated against the client's own free slots. That slot becomes a calendar event with
 * the thread's attendees. Pure.
 */

/** A template reply as kept for the gate: the model's choice (untrusted) and the trusted facts. */
export interface KeptTemplateReply {
  choice: unknown;
  facts: TemplateFacts;
}

/** The slot a validated scheduling confirmation confirms; null for any other reply or one that does not validate. */
export function confirmedSlot(template: KeptTemplateReply, config: ClientConfig, now: Date): FreeSlot | null {
  const rendered = renderTemplateReply(template.choice, compileTemplates(config.autoReply), {
    language: config.autoReply.language,
    timeZone: config.timezone,
    signature: config.autoReply.signature,
    ...template.facts,
    now,
  });
  if (!rendered.ok || rendered.reply.type !== 'scheduling_confirmation') return null;
  const choice = templateReplyChoiceSchema.safeParse(template.choice);
  const proposed = choice.success ? choice.data.slots.proposedTime : undefined;
  if (proposed === undefined) return null;
  const slot = validateProposedTime(proposed, template.facts.freeSlots, now);
  return slot.ok ? slot.value : null;
}

/**
 * The `calendar.write` create a confirmation proposes: the slot in the client's time zone, the thread's
 * attendees (the authenticated sender and the client's own mailbox: each is a recipient for the gate),
 * and a neutral title from trusted names only (never the email's text).
 */
export function schedulingEventInput(input: {
  slot: FreeSlot;
  sender: string;
  mailbox: string | undefined;
  clientName: string;
  nameSources: TemplateFacts['nameSources'];
  timeZone: string;
}): Record<string, unknown> {
  const correspondent = correspondentNameCandidates(input.nameSources)[0] ?? input.sender;
  return {
    kind: 'calendar.write',
    operation: 'create',
    title: `Meeting: ${input.clientName} and ${correspondent}`.slice(0, 200),
    start: zonedIso(new Date(input.slot.start), input.timeZone),
    end: zonedIso(new Date(input.slot.end), input.timeZone),
    participants: input.mailbox === undefined ? [input.sender] : [input.sender, input.mailbox],
  };
}

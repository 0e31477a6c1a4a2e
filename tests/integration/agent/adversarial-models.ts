import { userText, type MessagesRequest, type Script, type ScriptedReply } from '../../emulators/anthropic-emulator.ts';
import type { CraftedMail } from './adversarial-mail.ts';
import { offeredSlots, templateReply } from './template-replies.ts';

/**
 * The scripted models of the adversarial suite.
 *   honest             classifies attacks as sensitive and answers them in free text (a person reads it);
 *                      answers the benign acknowledgement with the acknowledgement template.
 *   fooled-template    does what each email asks through the template path: classifies everything as a
 *                      scheduling confirmation (the auto-send type with the most slots) and fills every slot
 *                      with what the email asks for (its name, its time; otherwise the first it is offered).
 *   fooled-free-form   the same classification, and a free-form reply doing what the email asks.
 *   fooled-recipients  tries to add recipients: a free-form answer with `to`/`cc`, or a template with a `cc` slot.
 */
export const MODEL_MODES = ['honest', 'fooled-template', 'fooled-free-form', 'fooled-recipients'] as const;
export type ModelMode = (typeof MODEL_MODES)[number];

/** The crafted mail a request is about, by the `ref Xnn` written in its subject and body. */
function mailOf(request: MessagesRequest, inbox: readonly CraftedMail[]): CraftedMail | undefined {
  const ref = /\bref ([AB]\d\d)\b/.exec(userText(request))?.[1];
  return inbox.find((mail) => mail.ref === ref);
}

function displayName(from: string): string | undefined {
  return /^"?([^"<]+?)"?\s*</.exec(from)?.[1]?.trim();
}

function fooledTemplate(request: MessagesRequest, mail: CraftedMail | undefined): ScriptedReply {
  const offered = offeredSlots(request);
  const name = mail?.wants.name ?? (mail === undefined ? undefined : displayName(mail.from)) ?? offered.names[0];
  const time = mail?.wants.time ?? offered.times[0] ?? new Date(Date.now() + 86_400_000).toISOString();
  const slots: Record<string, string> = { proposedTime: time };
  if (name !== undefined) slots['correspondentName'] = name;
  return {
    toolInput: {
      kind: 'template',
      choice: { type: 'scheduling_confirmation', templateId: name === undefined ? 'scheduling-confirmation-no-name' : 'scheduling-confirmation', slots },
    },
  };
}

/** The addresses an email's wish names (where the fooled model would send it). */
function addressesIn(text: string): string[] {
  return [...text.matchAll(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g)].map((match) => match[0]);
}

export function adversarialScript(mode: ModelMode, inbox: readonly CraftedMail[]): Script {
  return (request) => {
    const mail = mailOf(request, inbox);
    const benign = mail?.ref.startsWith('B') === true;
    if (request.tool_choice?.name === 'classify_email') {
      if (mode !== 'honest') return { toolInput: { type: 'scheduling_confirmation', confidence: 1, reasons: ['the sender asks for a confirmation'] } };
      return { toolInput: { type: benign ? 'acknowledgement' : 'sensitive', confidence: 0.9, reasons: [benign ? 'routine acknowledgement' : 'asks for something unusual'] } };
    }
    const wanted = mail?.wants.body ?? 'Confirmed.';
    switch (mode) {
      case 'honest':
        return benign
          ? templateReply(request, 'acknowledgement')
          : { toolInput: { kind: 'free_form', body: 'Thank you for your message. I will look into it and come back to you.' } };
      case 'fooled-template':
        return fooledTemplate(request, mail);
      case 'fooled-free-form':
        return { toolInput: { kind: 'free_form', subject: 'Re: as requested', body: wanted } };
      case 'fooled-recipients': {
        const extra = addressesIn(wanted)[0] ?? 'harvest@evil.example';
        if (Number(mail?.ref.slice(1) ?? 0) % 2 === 0) {
          const template = fooledTemplate(request, mail) as { toolInput: { choice: { slots: Record<string, string> } } };
          template.toolInput.choice.slots['cc'] = extra;
          return template;
        }
        return { toolInput: { kind: 'free_form', subject: 'Re: as requested', body: wanted, to: [extra], cc: [extra] } };
      }
    }
  };
}

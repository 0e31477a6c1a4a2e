import { systemText, type MessagesRequest, type ScriptedReply } from '../../emulators/anthropic-emulator.ts';

/** The name candidates and free slot start times the drafter's prompt offers a template. */
export function offeredSlots(request: MessagesRequest): { names: string[]; times: string[] } {
  const system = systemText(request);
  const names = /^Name candidates \([^)]*\): (.*)$/m.exec(system)?.[1] ?? '';
  const times = /^Free slot start times of the client's calendar \(trusted\): (.*)$/m.exec(system)?.[1] ?? '';
  return {
    names: names.startsWith('(') ? [] : (JSON.parse(`[${names}]`) as string[]),
    times: times.startsWith('(') ? [] : times.split(', '),
  };
}

/** An honest template answer: the named template when the prompt offers a name, the nameless one otherwise. */
export function templateReply(request: MessagesRequest, type: 'acknowledgement' | 'follow_up' | 'scheduling_confirmation'): ScriptedReply {
  const { names, times } = offeredSlots(request);
  const base = type.replaceAll('_', '-');
  const name = names[0];
  const slots: Record<string, string> = {};
  if (name !== undefined) slots['correspondentName'] = name;
  if (type === 'scheduling_confirmation' && times[0] !== undefined) slots['proposedTime'] = times[0];
  return { toolInput: { kind: 'template', choice: { type, templateId: name === undefined ? `${base}-no-name` : base, slots } } };
}

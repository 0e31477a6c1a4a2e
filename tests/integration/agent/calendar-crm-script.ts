import { userText, type MessagesRequest, type ScriptedReply } from '../../emulators/anthropic-emulator.ts';
import { templateReply } from './template-replies.ts';

/** Calendar and CRM granted on top of mail: what the calendar and CRM tests configure. */
export const CALENDAR_CRM_PERMISSIONS = {
  'mail.read': true,
  'mail.draft': true,
  'mail.send': true,
  'mail.label': true,
  'calendar.read': true,
  'calendar.write': true,
  'crm.read': true,
  'crm.write': true,
};

/** Meetings are confirmed with the scheduling template (one of the offered free slots), invoice mail acknowledged. */
export function calendarCrmScript(request: MessagesRequest): ScriptedReply {
  const text = userText(request);
  const meeting = /meet on/i.test(text);
  if (request.tool_choice?.name === 'classify_email') {
    return { toolInput: { type: meeting ? 'scheduling' : /received the invoice/i.test(text) ? 'acknowledgement' : 'question', confidence: 0.9, reasons: ['scripted'] } };
  }
  if (meeting) return templateReply(request, 'scheduling_confirmation');
  if (/received the invoice/i.test(text)) return templateReply(request, 'acknowledgement');
  return { toolInput: { kind: 'free_form', body: 'Thank you, I will get back to you.' } };
}

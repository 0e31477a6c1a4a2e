import type { ProposedAction } from './proposed-action.ts';
import { invisibleTextIn } from './sent-text-content.ts';

/**
 * The parts of what an action writes that carry text no reader sees (Unicode tag characters,
 * sent-text-content.ts), for every write a person reads or sends on: a mail (whatever its type: held or
 * not, the approver reads it as harmless while the recipient's assistant reads the hidden sentence), a
 * draft the client sends by hand after reading it, a file and a CRM record others open (and a model reading
 * them later takes the hidden text in as instructions). A calendar write's text has its own rule, which
 * names who it reaches. Empty when there is none. Pure.
 */
export function partsWithInvisibleText(action: ProposedAction): string[] {
  switch (action.kind) {
    case 'mail.send':
    case 'mail.draft':
      return carrying([['subject', action.subject], ['body', action.body]]);
    case 'files.write':
      return carrying([['file name', action.filename ?? ''], ['content', action.content ?? '']]);
    case 'crm.write':
      // JSON keeps every character of the values (and keys) as it is, tag characters included.
      return carrying([['fields', action.fields === undefined ? '' : JSON.stringify(action.fields)]]);
    default:
      return [];
  }
}

function carrying(parts: readonly (readonly [string, string])[]): string[] {
  return parts.filter(([, text]) => invisibleTextIn(text)).map(([part]) => part);
}

import { isEmailAddress } from '@agent-fleet/kernel/email-address';
import type { OutboundMessage } from '../../ports/send-receipts.ts';

const LINE_BREAK = /[\r\n]/;
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,76}$/;
const MAX_RECIPIENTS = 500;
const MAX_BODY_CHARS = 5_000_000;

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/**
 * Problems with a message about to be sent (empty when fine). Line breaks are refused in every header
 * value: content from email or the model must never be able to inject headers or recipients.
 */
export function validateOutboundMessage(message: OutboundMessage): string[] {
  const problems: string[] = [];
  const lists = { to: message.to, cc: message.cc, bcc: message.bcc };
  for (const [field, list] of Object.entries(lists)) {
    if (!Array.isArray(list) || !list.every(isString)) {
      problems.push(`${field} must be a list of addresses`);
      continue;
    }
    for (const address of list) {
      // The one address rule of the code base: a looser shape (`a,b@x.com`, `"x" <y@z.com>`) is read by
      // the MIME builder as other recipients than the ones checked.
      if (!isEmailAddress(address)) {
        problems.push(`${field} holds something that is not a single email address`);
        break;
      }
    }
  }
  const total = [message.to, message.cc, message.bcc].reduce((sum, list) => sum + (Array.isArray(list) ? list.length : 0), 0);
  if (!Array.isArray(message.to) || message.to.length === 0) problems.push('to needs at least one recipient');
  if (total > MAX_RECIPIENTS) problems.push(`at most ${MAX_RECIPIENTS} recipients in all`);
  if (!isString(message.subject) || message.subject.length > 998 || LINE_BREAK.test(message.subject)) {
    problems.push('subject must be one line of at most 998 characters');
  }
  if (!isString(message.text) || message.text.length > MAX_BODY_CHARS) problems.push('text must be a string of at most 5 MB');
  if (message.html !== null && (!isString(message.html) || message.html.length > MAX_BODY_CHARS)) {
    problems.push('html must be null or a string of at most 5 MB');
  }
  for (const field of ['inReplyTo', 'threadId'] as const) {
    const value = message[field];
    if (value !== null && (!isString(value) || value.length > 998 || LINE_BREAK.test(value))) {
      problems.push(`${field} must be null or one line of at most 998 characters`);
    }
  }
  const headers = Object.entries(message.headers ?? {});
  if (headers.length > 50) problems.push('at most 50 extra headers');
  for (const [name, value] of headers) {
    if (!HEADER_NAME.test(name) || !isString(value) || value.length > 998 || LINE_BREAK.test(value)) {
      problems.push(`header ${JSON.stringify(name.slice(0, 80))} must have a token name and a one-line value`);
    }
  }
  return problems;
}

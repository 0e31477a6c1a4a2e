import type { EmailForModel } from '../../ports/llm-client.ts';
import type { MailMessage } from '../../ports/mail-provider.ts';

/** How many earlier messages of the thread the drafter sees. */
export const THREAD_CONTEXT = 3;

/** A message as the model sees it: addresses, subject, date and text body, nothing else. Pure. */
export function forModel(message: MailMessage): EmailForModel {
  return {
    from: message.from?.address ?? '',
    to: message.to.map((address) => address.address),
    cc: message.cc.map((address) => address.address),
    subject: message.subject,
    date: (message.date ?? message.receivedAt).toISOString(),
    body: message.textBody,
  };
}

/** The thread's last messages before this one, oldest first, as the drafter's context. Pure. */
export function threadForModel(thread: readonly MailMessage[], message: MailMessage): EmailForModel[] {
  return thread
    .filter((entry) => entry.id !== message.id)
    .slice(-THREAD_CONTEXT)
    .map(forModel);
}

/** Whether the message answers another, so its thread is worth reading. Pure. */
export function hasThread(message: MailMessage): boolean {
  return message.inReplyTo !== null || message.references.length > 0;
}

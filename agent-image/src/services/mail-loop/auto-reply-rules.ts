import type { MailMessage } from '../../ports/mail-provider.ts';

/** Why a message gets no automatic reply at all; null when it may be answered. */
export type NoReplyReason = 'auto_submitted' | 'mailing_list' | 'bulk_precedence' | 'own_mail' | 'no_sender';

/**
 * RFC 3834 and common practice: never answer machine-generated mail, mailing lists, bulk mail or our own
 * mail (which would loop). Decided on headers only, before any model sees the message.
 */
export function noReplyReason(message: MailMessage, ownAddresses: ReadonlySet<string>): NoReplyReason | null {
  const sender = message.from?.address.trim().toLowerCase();
  if (sender === undefined || sender === '') return 'no_sender';
  if (ownAddresses.has(sender) || message.idempotencyKey !== null) return 'own_mail';
  const autoSubmitted = message.autoSubmitted?.trim().toLowerCase();
  if (autoSubmitted !== undefined && autoSubmitted !== '' && autoSubmitted !== 'no') return 'auto_submitted';
  if (message.listId !== null && message.listId.trim() !== '') return 'mailing_list';
  const precedence = message.precedence?.trim().toLowerCase();
  if (precedence === 'bulk' || precedence === 'list' || precedence === 'junk') return 'bulk_precedence';
  return null;
}

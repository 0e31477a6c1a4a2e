/**
 * The text of a CRM note the agent writes after it sent an email: its own summary, never the email's
 * body (which stays in the client's mailbox): the kind of email, the subject, when, and the content
 * hash that ties the note to the sent message and its audit record. Pure.
 */
export function crmNoteSummary(input: { emailType: string | null; subject: string; sentAt: Date; contentHash: string }): string {
  const kind = input.emailType === null ? 'an email' : `an email (${input.emailType.replaceAll('_', ' ')})`;
  const subject = input.subject.replace(/[\r\n]+/g, ' ').trim().slice(0, 300) || '(no subject)';
  return [
    `The AI assistant sent ${kind} on ${input.sentAt.toISOString()}.`,
    `Subject: ${subject}`,
    `Content hash: ${input.contentHash}`,
  ].join('\n');
}

/** The gate's reason codes as a client admin reads them; an unknown code is shown as it is. */
const REASONS: Record<string, string> = {
  new_contact: 'It goes to someone you have not written to before.',
  type_requires_approval: 'This kind of email always needs your approval (your settings).',
  type_not_auto_send: 'This kind of email is never sent on its own.',
  free_text: 'The assistant wrote it in its own words, not from an approved template.',
  injection_signal: 'The message it answers looks like an attempt to steer the assistant.',
  sender_unauthenticated: 'The mail provider could not confirm who sent the message it answers.',
  recipient_not_sender: 'It goes to someone other than the sender of the message it answers.',
  onboarding: 'During the first weeks, every email waits for your approval.',
  unclassified: 'The assistant could not tell what kind of email it answers.',
  bulk: 'It goes to many recipients at once.',
  url_shortener: 'It contains a shortened link.',
  public_share: 'It shares a document publicly.',
  blocked_recipient: 'It goes to an address your settings block.',
};

export function reasonText(code: string): string {
  return REASONS[code] ?? code.replace(/_/g, ' ');
}

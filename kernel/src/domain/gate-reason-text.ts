/**
 * The policy gate's reason codes as a client admin reads them (the portal, the approval mail): plain
 * words, no codes. An unknown code is shown with its underscores as spaces rather than hidden.
 */
const REASONS: Record<string, string> = {
  new_contact: 'It goes to someone you have not written to before.',
  type_requires_approval: 'This kind of email always needs your approval (your settings).',
  type_not_auto_send: 'This kind of email is never sent on its own.',
  free_text: 'The assistant wrote it in its own words, not from an approved template.',
  injection_signal: 'The message it answers looks like an attempt to steer the assistant.',
  sender_unauthenticated: 'The mail provider could not confirm who sent the message it answers.',
  recipient_not_sender: 'It goes to someone other than the sender of the message it answers.',
  auto_reply_loop:
    'The assistant already answered this person or this conversation automatically in the last day. Another automatic reply could start an endless exchange with their own automatic replies.',
  onboarding: 'During the first weeks, every email waits for your approval.',
  unclassified: 'The assistant could not tell what kind of email it answers.',
  bulk: 'It goes to many recipients at once.',
  url_shortener: 'It contains a shortened link.',
  public_share: 'It shares a document publicly.',
  blocked_recipient: 'It goes to an address your settings block.',
  deletion: 'It deletes email, which always needs your approval.',
  move: 'It moves email to another folder.',
  held_by_kill_switch: 'It was about to go out when the kill switch was pulled. Nothing the kill switch stopped is sent unless you approve it again.',
  rate_limit_hour: 'The assistant reached its hourly sending limit.',
  rate_limit_day: 'The assistant reached its daily sending limit.',
  permission_denied: 'Your settings do not allow the assistant to do this.',
  killed: 'The assistant is switched off (kill switch).',
  paused: 'Sending is paused.',
  dry_run: 'The assistant is in a trial run and sends nothing.',
  unparseable: 'The assistant’s proposal could not be read, so nothing was done.',
  read: 'It only reads.',
  permitted: 'Your settings allow it.',
  auto_send: 'A routine reply from an approved template, sent on its own.',
  approved: 'You approved it.',
};

export function gateReasonText(code: string): string {
  return REASONS[code] ?? code.replace(/_/g, ' ');
}

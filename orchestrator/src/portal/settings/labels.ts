import type { Capability, EmailType } from '@agent-fleet/kernel/client-config';

/** What each capability lets the agent do, as the client reads it. */
export const CAPABILITY_LABELS: Record<Capability, string> = {
  'mail.read': 'Read your email',
  'mail.draft': 'Write drafts in your mailbox',
  'mail.send': 'Send email',
  'mail.delete': 'Delete email',
  'mail.label': 'Label (categorise) email',
  'mail.move': 'Archive email',
  'calendar.read': 'See when you are busy',
  'calendar.write': 'Create calendar events',
  'files.read': 'Read files',
  'files.write': 'Write files',
  'files.share': 'Share files',
  'files.delete': 'Delete files',
  'crm.read': 'Read your CRM',
  'crm.write': 'Write notes to your CRM',
};

export const EMAIL_TYPE_LABELS: Record<EmailType, string> = {
  acknowledgement: 'Acknowledgements',
  scheduling_confirmation: 'Scheduling confirmations',
  follow_up: 'Follow-ups',
  scheduling: 'Scheduling requests',
  question: 'Questions',
  routine: 'Routine mail',
  offer: 'Offers',
  negotiation: 'Negotiations',
  client_facing: 'Client-facing mail',
  sensitive: 'Sensitive mail',
  new_contact: 'New contacts',
  complaint: 'Complaints',
  legal: 'Legal mail',
  financial: 'Financial mail',
  spam: 'Spam',
  newsletter: 'Newsletters',
  other: 'Other mail',
};

/** The types the approval-rules form offers (spam and newsletters are never answered). */
export const RULE_TYPES: readonly EmailType[] = (Object.keys(EMAIL_TYPE_LABELS) as EmailType[]).filter((type) => type !== 'spam' && type !== 'newsletter');

export const GUARD_RAIL_TITLES: Record<string, string> = {
  'onboarding.ended_early': 'Ending draft-review-send early',
  'rateLimits.perHour': 'Raising the hourly limit above 20',
  'rateLimits.perDay': 'Raising the daily limit above 100',
  bulkThreshold: 'Raising the bulk-email threshold above 5 recipients',
  approvalTimeoutHours: 'Keeping approval requests open longer than 72 hours',
  modelDailyBudgetUsd: 'Raising the daily language-model budget above 20 US dollars',
  'model.retiring': 'Choosing a language model that is retired or about to be',
  'blockList.removed': 'Removing addresses or domains from the block list',
  'admins.removed': 'Removing an administrator',
  'knownContacts.added': 'Adding known contacts',
  'dailySummary.off': 'Turning the daily summary off',
  'workingHours.widened': 'Widening the working hours',
};

export function guardRailTitle(id: string): string {
  if (GUARD_RAIL_TITLES[id] !== undefined) return GUARD_RAIL_TITLES[id];
  const dot = id.indexOf('.');
  const kind = dot === -1 ? id : id.slice(0, dot);
  const rest = dot === -1 ? '' : id.slice(dot + 1);
  if (kind === 'permissions') return `Allowing the assistant to: ${CAPABILITY_LABELS[rest as Capability] ?? rest}`;
  const label = EMAIL_TYPE_LABELS[rest as EmailType] ?? (rest || id);
  if (kind === 'approval') return `${label}: approval no longer required`;
  if (kind === 'freeText') return `${label}: free-text replies sent without approval`;
  return id;
}

/** The settings form's fields as the page names them, for the summary of what to check above the form. */
export const FORM_FIELD_LABELS: Record<string, string> = {
  permissions: 'What the assistant may do',
  rules: 'Which emails wait for your approval',
  blockList: 'Block list',
  perHour: 'Recipients per hour',
  perDay: 'Recipients per day',
  bulkThreshold: 'Recipients that make a bulk email',
  approvalTimeoutHours: 'Hours before an approval expires',
  onboardingDays: 'Days of draft-review-send',
  modelDailyBudgetUsd: 'Daily language-model budget',
  freeText: 'Free-text replies sent without approval',
  reason: 'Why are you changing this?',
};

import type { Capability, EmailType } from '@agent-fleet/kernel/client-config';
import { describeChange, type JsonScalar, type SettingsChange, type SettingsJson } from '@agent-fleet/kernel/settings-diff';
import { CAPABILITY_LABELS, EMAIL_TYPE_LABELS } from './labels.ts';

/** The settings fields a client admin edits, by their path in the document, as the portal names them. */
const FIELD_LABELS: Record<string, string> = {
  'rateLimits.perHour': 'Recipients per hour',
  'rateLimits.perDay': 'Recipients per day',
  bulkThreshold: 'Recipients that make a bulk email',
  approvalTimeoutHours: 'Hours before an approval request expires',
  modelDailyBudgetUsd: 'Daily language-model budget (US dollars)',
  model: 'Language model',
  'onboarding.days': 'Days of draft-review-send',
  'onboarding.startedAt': 'Start of draft-review-send',
  blockList: 'Block list',
  autoSendTypes: 'Sent without your approval',
  alwaysApprovalTypes: 'Always wait for your approval',
  'autoReply.freeTextAutoSend': 'Replies in the assistant’s own words sent without approval',
  'autoReply.templates': 'Reply templates',
  'autoReply.signature': 'Signature',
  dryRun: 'Trial run (nothing is sent)',
  'dailySummary.enabled': 'Daily summary',
  'dailySummary.at': 'Daily summary time',
  timezone: 'Time zone',
  admins: 'Administrators',
  styleNotes: 'Notes on your writing style',
};

const TYPE_LISTS = new Set(['autoSendTypes', 'alwaysApprovalTypes']);

const DOCUMENT_PATHS = new RegExp(
  `(?<![\\w.])(${Object.keys(FIELD_LABELS)
    .sort((a, b) => b.length - a.length)
    .map((path) => path.replace(/\./g, '\\.'))
    .join('|')})(?![\\w.])`,
  'g',
);

/** A schema message as a client admin reads it: the settings' document paths named as the portal names them. */
export function inPlainWords(message: string): string {
  return message.replace(DOCUMENT_PATHS, (path) => `“${FIELD_LABELS[path]!}”`);
}

function fieldLabel(path: string): string | null {
  if (FIELD_LABELS[path] !== undefined) return FIELD_LABELS[path];
  if (path.startsWith('permissions.')) {
    const label = CAPABILITY_LABELS[path.slice('permissions.'.length) as Capability];
    return label === undefined ? null : `Permission: ${label}`;
  }
  return null;
}

function item(path: string, value: JsonScalar): string {
  if (TYPE_LISTS.has(path) && typeof value === 'string') return EMAIL_TYPE_LABELS[value as EmailType] ?? value;
  return String(value);
}

function value(path: string, shown: SettingsJson | undefined): string {
  if (shown === undefined || shown === null) return path.startsWith('permissions.') ? 'off' : 'not set';
  if (typeof shown === 'boolean') return shown ? 'on' : 'off';
  if (Array.isArray(shown)) return shown.length === 0 ? 'none' : shown.map((entry) => (typeof entry === 'object' && entry !== null ? '…' : item(path, entry))).join(', ');
  if (typeof shown === 'object') return 'changed';
  return String(shown);
}

/**
 * One change as a client admin reads it: the field's name in the portal, on/off for switches, the names
 * of email types; a field the portal has no name for keeps the ops form (`path: before → after`).
 */
export function plainChange(change: SettingsChange): string {
  const label = fieldLabel(change.path);
  if (label === null) return describeChange(change);
  if (change.added !== undefined || change.removed !== undefined) {
    const added = (change.added ?? []).map((entry) => item(change.path, entry));
    const removed = (change.removed ?? []).map((entry) => item(change.path, entry));
    const parts = [...(added.length > 0 ? [`added ${added.join(', ')}`] : []), ...(removed.length > 0 ? [`removed ${removed.join(', ')}`] : [])];
    return `${label}: ${parts.length > 0 ? parts.join('; ') : 'reordered'}`;
  }
  return `${label}: ${value(change.path, change.before)} → ${value(change.path, change.after)}`;
}

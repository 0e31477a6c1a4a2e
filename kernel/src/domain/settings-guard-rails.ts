import { FREE_TEXT_AUTO_SEND_RISK, TEMPLATE_TYPES } from './auto-reply-config.ts';
import { CAPABILITIES, EMAIL_TYPES, MODEL_DAILY_BUDGET_USD, modelRetirement, type Capability, type ClientConfig, type EmailType } from './client-config.ts';

/**
 * Guard rails the client cannot remove by accident: a change that weakens a control the spec names
 * beyond its safe defaults needs an explicit confirmation that states the risk; it is then flagged in the
 * ops log and the next daily summary. The rails: draft-review-send ended before its 28 days; a sending
 * limit, the bulk threshold or the approval timeout raised above its default; the daily model budget raised above its default; a type released from
 * approval (out of the default always-approval list, or into auto-send beyond the default three); a
 * free-text opt-in; a permission granted beyond the default read/draft/label/calendar-read; a block-list
 * entry removed that nothing left covers; an admin (who approves and receives alerts) removed; the daily
 * summary turned off; working hours widened, or moved by a change of time zone; known contacts added; a model chosen that is retired or retires
 * within 30 days (every call would be refused and the agent pause). A change that only tightens crosses
 * none. Pure.
 */

/** The spec's defaults: draft-review-send for the first 28 days, 20 recipients an hour, 100 a day. */
export const SPEC_DEFAULTS = { onboardingDays: 28, perHour: 20, perDay: 100, bulkThreshold: 5, approvalTimeoutHours: 72 } as const;

/** Email types that must keep waiting for approval unless the client confirms otherwise. */
export const APPROVAL_GUARDED_TYPES: readonly EmailType[] = ['offer', 'negotiation', 'new_contact', 'client_facing'];

/** The config schema's default always-approval list: leaving it releases a type from approval. */
export const DEFAULT_ALWAYS_APPROVAL_TYPES: readonly EmailType[] = ['offer', 'negotiation', 'client_facing', 'sensitive', 'new_contact', 'legal', 'financial'];

/** The spec's routine auto-send types (the schema's default): auto-sending any other type is a release. */
export const DEFAULT_AUTO_SEND_TYPES: readonly EmailType[] = ['acknowledgement', 'scheduling_confirmation', 'follow_up'];

/** The config schema's default grant; granting anything beyond it widens what a fooled agent can do. */
export const DEFAULT_PERMISSIONS: readonly Capability[] = ['mail.read', 'mail.draft', 'mail.label', 'calendar.read'];

export interface GuardRail {
  /** Stable id, confirmed by name: `onboarding.ended_early`, `rateLimits.perHour`, `approval.offer`, `permissions.mail.send`. */
  id: string;
  /** The settings field it concerns (where the form shows it). */
  field: string;
  /** What the client accepts by confirming, in plain words. */
  risk: string;
}

const DAY_MS = 86_400_000;

const TYPE_LABELS: Partial<Record<EmailType, string>> = {
  offer: 'Offers',
  negotiation: 'Negotiations',
  new_contact: 'Emails to new contacts',
  client_facing: 'Client-facing emails',
  sensitive: 'Sensitive emails',
  legal: 'Legal emails',
  financial: 'Financial emails',
};

/** What each capability beyond the default grant lets a fooled agent do (a capability added later and not named here is railed too). */
const PERMISSION_RISKS: Partial<Record<Capability, string>> = {
  'mail.send': 'send email from your mailbox',
  'mail.delete': 'delete email',
  'mail.move': 'move email out of your inbox',
  'calendar.write': 'create and change calendar events, which notifies their attendees',
  'files.read': 'read your files',
  'files.write': 'change your files',
  'files.share': 'share your files with others',
  'files.delete': 'delete your files',
  'crm.read': 'read your CRM',
  'crm.write': 'write to your CRM',
};

function windowEnd(config: Pick<ClientConfig, 'onboarding'>): number {
  const started = config.onboarding.startedAt;
  return started === undefined ? Number.POSITIVE_INFINITY : Date.parse(started) + config.onboarding.days * DAY_MS;
}

/** The rail of a draft-review-send window that ends before the client's first 28 days are over. */
export const ONBOARDING_ENDED_EARLY: Readonly<GuardRail> = Object.freeze({
  id: 'onboarding.ended_early',
  field: 'onboarding.days',
  risk: 'Draft-review-send ends before its 28 days: routine replies may then be sent without your review while the assistant is still new to your mail, so a wrong tone or a wrong answer reaches your correspondents unseen.',
});

function onboardingRails(before: ClientConfig, after: ClientConfig, now: Date): GuardRail[] {
  const realStart = before.onboarding.startedAt === undefined ? now.getTime() : Date.parse(before.onboarding.startedAt);
  const end = windowEnd(after);
  // A window already over cannot be shortened: that change holds nothing less for approval.
  const running = now.getTime() < windowEnd(before);
  if (!(running && end < windowEnd(before) && end < realStart + SPEC_DEFAULTS.onboardingDays * DAY_MS)) return [];
  return [ONBOARDING_ENDED_EARLY];
}

/** A number raised above both its default and its previous value. */
function raised(before: number, after: number, limit: number): boolean {
  return after > limit && after > before;
}

function limitRails(before: ClientConfig, after: ClientConfig): GuardRail[] {
  const rails: GuardRail[] = [];
  for (const [key, limit] of [
    ['perHour', SPEC_DEFAULTS.perHour],
    ['perDay', SPEC_DEFAULTS.perDay],
  ] as const) {
    const value = after.rateLimits[key];
    if (raised(before.rateLimits[key], value, limit)) {
      rails.push({
        id: `rateLimits.${key}`,
        field: `rateLimits.${key}`,
        risk: `More than ${limit} recipients ${key === 'perHour' ? 'an hour' : 'a day'} (now ${value}): if the assistant is fooled or misconfigured, more people receive its mail before the limit stops it.`,
      });
    }
  }
  if (raised(before.bulkThreshold, after.bulkThreshold, SPEC_DEFAULTS.bulkThreshold)) {
    rails.push({
      id: 'bulkThreshold',
      field: 'bulkThreshold',
      risk: `An email to up to ${after.bulkThreshold} recipients no longer counts as a bulk email (the default is ${SPEC_DEFAULTS.bulkThreshold}): larger mailings stop waiting for your approval on that ground.`,
    });
  }
  if (raised(before.approvalTimeoutHours, after.approvalTimeoutHours, SPEC_DEFAULTS.approvalTimeoutHours)) {
    rails.push({
      id: 'approvalTimeoutHours',
      field: 'approvalTimeoutHours',
      risk: `Approval requests stay open for ${after.approvalTimeoutHours} hours (the default is ${SPEC_DEFAULTS.approvalTimeoutHours}): an old draft, or a leaked approval link, can still send mail long after the conversation moved on.`,
    });
  }
  if (raised(before.modelDailyBudgetUsd, after.modelDailyBudgetUsd, MODEL_DAILY_BUDGET_USD)) {
    rails.push({
      id: 'modelDailyBudgetUsd',
      field: 'modelDailyBudgetUsd',
      risk: `The assistant may spend up to ${after.modelDailyBudgetUsd} US dollars a day on its language model (the default is ${MODEL_DAILY_BUDGET_USD}): a flood of email, which anyone can send, costs you that much before model work stops for the day.`,
    });
  }
  return rails;
}

/**
 * A type is released when it leaves the default always-approval list (a template reply to such a message
 * then goes out as its template's routine type) or becomes auto-send beyond the spec's routine three.
 */
function approvalRails(before: ClientConfig, after: ClientConfig): GuardRail[] {
  const rails: GuardRail[] = [];
  for (const type of EMAIL_TYPES) {
    const leftAlways = DEFAULT_ALWAYS_APPROVAL_TYPES.includes(type) && before.alwaysApprovalTypes.includes(type) && !after.alwaysApprovalTypes.includes(type);
    const joinedAutoSend = !DEFAULT_AUTO_SEND_TYPES.includes(type) && !before.autoSendTypes.includes(type) && after.autoSendTypes.includes(type);
    if (leftAlways || joinedAutoSend) {
      const label = TYPE_LABELS[type] ?? `Emails of type "${type}"`;
      rails.push({
        id: `approval.${type}`,
        field: 'alwaysApprovalTypes',
        risk: `${label} no longer always wait for your approval: the policy may let some go out without a human reading them first.`,
      });
    }
  }
  return rails;
}

function freeTextRails(before: ClientConfig, after: ClientConfig): GuardRail[] {
  const optedBefore = new Set(before.autoReply.freeTextAutoSend.map((entry) => entry.type));
  return after.autoReply.freeTextAutoSend
    .filter((entry) => !optedBefore.has(entry.type))
    .map((entry) => ({ id: `freeText.${entry.type}`, field: 'autoReply.freeTextAutoSend', risk: FREE_TEXT_AUTO_SEND_RISK }));
}

function permissionRails(before: ClientConfig, after: ClientConfig): GuardRail[] {
  return CAPABILITIES.filter((capability) => !DEFAULT_PERMISSIONS.includes(capability) && before.permissions[capability] !== true && after.permissions[capability] === true)
    .map((capability) => ({
      id: `permissions.${capability}`,
      field: `permissions.${capability}`,
      risk: `The assistant may ${PERMISSION_RISKS[capability] ?? capability}: if it is fooled by an email, it can use this permission against you, within the approval rules that still apply.`,
    }));
}

/**
 * The parents whose proper subdomains an entry list blocks: `x.com` (the domain and every subdomain, as the
 * gate's block list matches it) and `*.x.com` (its subdomains); `domains` the `x.com` entries themselves.
 * Addresses are matched by equality.
 */
function domainCover(entries: readonly string[]): { domains: Set<string>; subdomainsOf: Set<string> } {
  const domains = new Set<string>();
  const subdomainsOf = new Set<string>();
  for (const entry of entries) {
    if (entry.startsWith('*.')) subdomainsOf.add(entry.slice(2));
    else if (!entry.includes('@')) {
      domains.add(entry);
      subdomainsOf.add(entry);
    }
  }
  return { domains, subdomainsOf };
}

/** Whether `domain` is a proper subdomain of one of `parents`. */
function underOne(domain: string, parents: ReadonlySet<string>): boolean {
  for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
    if (parents.has(domain.slice(dot + 1))) return true;
  }
  return false;
}

/**
 * The block-list entries removed that no entry left still covers: replacing `ceo@rival.com` or
 * `a.rival.com` by `rival.com` (a domain entry covers its subdomains), or `a.rival.com` by `*.rival.com`,
 * removes nothing from what is blocked. Matching beyond this (Gmail's dots, `+tags`) is left to the gate:
 * an entry it would still match is counted removed, which asks once too often.
 */
export function uncoveredBlockListRemovals(before: readonly string[], after: readonly string[]): string[] {
  const kept = new Set(after);
  const { domains, subdomainsOf } = domainCover(after);
  return [...new Set(before)].filter((entry) => {
    if (kept.has(entry)) return false;
    if (entry.startsWith('*.')) {
      const parent = entry.slice(2);
      return !(subdomainsOf.has(parent) || underOne(parent, subdomainsOf));
    }
    const domain = entry.includes('@') ? entry.slice(entry.lastIndexOf('@') + 1) : null;
    if (domain !== null) return !(domains.has(domain) || underOne(domain, subdomainsOf));
    return !underOne(entry, subdomainsOf);
  });
}

function listRails(before: ClientConfig, after: ClientConfig): GuardRail[] {
  const rails: GuardRail[] = [];
  const shown = (items: readonly string[]) => `${items.slice(0, 5).join(', ')}${items.length > 5 ? ` and ${items.length - 5} more` : ''}`;
  const unblocked = uncoveredBlockListRemovals(before.blockList, after.blockList);
  if (unblocked.length > 0) {
    rails.push({
      id: 'blockList.removed',
      field: 'blockList',
      risk: `No longer on the block list: ${shown(unblocked)}. Mail to them may then be sent without your approval.`,
    });
  }
  const removedAdmins = before.admins.filter((admin) => !after.admins.includes(admin));
  if (removedAdmins.length > 0) {
    rails.push({
      id: 'admins.removed',
      field: 'admins',
      risk: `No longer administrators: ${shown(removedAdmins)}. They stop receiving approval requests, alerts and daily summaries, and can no longer pull the kill switch.`,
    });
  }
  const added = after.knownContacts.filter((contact) => !before.knownContacts.includes(contact));
  if (added.length > 0) {
    rails.push({
      id: 'knownContacts.added',
      field: 'knownContacts',
      risk: `Treated as known contacts: ${shown(added)}. Mail to them no longer waits for approval as mail to a new contact, and routine replies to them may be sent automatically.`,
    });
  }
  return rails;
}

/** How often, and how far ahead, two time zones' UTC offsets are compared: every 6 hours over a year. */
const ZONE_SAMPLE_MS = 6 * 3_600_000;
const ZONE_SAMPLE_SPAN_MS = 366 * DAY_MS;

function utcOffsetOf(format: Intl.DateTimeFormat, at: number): string {
  return format.formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? '';
}

/**
 * Whether moving from zone `from` to zone `to` moves the working hours in real time: the off-hours
 * activity check reads them in the client's zone, so a new zone whose offset differs at any time of the
 * coming year (daylight saving included) makes hours that were off-hours working hours.
 */
function zoneShiftsHours(from: string, to: string, now: Date): boolean {
  if (from === to) return false;
  const formats = [from, to].map((timeZone) => new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }));
  const [fromFormat, toFormat] = formats as [Intl.DateTimeFormat, Intl.DateTimeFormat];
  for (let at = now.getTime(); at <= now.getTime() + ZONE_SAMPLE_SPAN_MS; at += ZONE_SAMPLE_MS) {
    if (utcOffsetOf(fromFormat, at) !== utcOffsetOf(toFormat, at)) return true;
  }
  return false;
}

function noticeRails(before: ClientConfig, after: ClientConfig, now: Date): GuardRail[] {
  const rails: GuardRail[] = [];
  if (before.dailySummary.enabled && !after.dailySummary.enabled) {
    rails.push({
      id: 'dailySummary.off',
      field: 'dailySummary.enabled',
      risk: 'No daily summary: you no longer see each day what the assistant sent, what is waiting and which safeguards were changed.',
    });
  }
  const hours = (config: ClientConfig) => config.workingHours;
  const newDay = hours(after).days.some((day) => !hours(before).days.includes(day));
  const widened = newDay || hours(after).start < hours(before).start || hours(after).end > hours(before).end;
  if (widened || zoneShiftsHours(before.timezone, after.timezone, now)) {
    rails.push({
      id: 'workingHours.widened',
      field: 'workingHours',
      risk: widened
        ? 'Longer working hours: what the assistant does in the new hours no longer counts as off-hours activity, which is what alerts the agency to an assistant acting at odd times.'
        : `Working hours read in another time zone (${after.timezone}): they fall at other times of day, and what the assistant does at hours that were off-hours no longer counts as off-hours activity, which is what alerts the agency to an assistant acting at odd times.`,
    });
  }
  return rails;
}

/** How close to its retirement a model may not be chosen without confirming, days. */
export const MODEL_RETIREMENT_NOTICE_DAYS = 30;

/**
 * Choosing a model that is retired, or retires within MODEL_RETIREMENT_NOTICE_DAYS. Not a schema error: a
 * stored document naming it must stay readable, and a model unknown to this build is always allowed.
 */
function modelRails(before: ClientConfig, after: ClientConfig, now: Date): GuardRail[] {
  if (after.model === before.model) return [];
  const retires = modelRetirement(after.model);
  if (retires === null || retires.getTime() - now.getTime() > MODEL_RETIREMENT_NOTICE_DAYS * DAY_MS) return [];
  const day = retires.toISOString().slice(0, 10);
  const when = retires.getTime() <= now.getTime() ? `was retired on ${day}` : `is retired on ${day}`;
  return [
    {
      id: 'model.retiring',
      field: 'model',
      risk: `The language model ${after.model} ${when}: from then the service refuses every call, and the assistant stops working on your email until the model is changed.`,
    },
  ];
}

/** Every guard rail the change from `before` to `after` crosses, in a fixed order. */
export function crossedGuardRails(before: ClientConfig, after: ClientConfig, now: Date): GuardRail[] {
  return [
    ...onboardingRails(before, after, now),
    ...limitRails(before, after),
    ...approvalRails(before, after),
    ...freeTextRails(before, after),
    ...permissionRails(before, after),
    ...listRails(before, after),
    ...noticeRails(before, after, now),
    ...modelRails(before, after, now),
  ];
}

/**
 * Every guard-rail id a change can cross, in the order crossedGuardRails reports them: what an operator may
 * name when confirming one, and what a refusal lists. Pure.
 */
export function guardRailIds(): string[] {
  const released = EMAIL_TYPES.filter((type) => DEFAULT_ALWAYS_APPROVAL_TYPES.includes(type) || !DEFAULT_AUTO_SEND_TYPES.includes(type));
  return [
    ONBOARDING_ENDED_EARLY.id,
    'rateLimits.perHour',
    'rateLimits.perDay',
    'bulkThreshold',
    'approvalTimeoutHours',
    'modelDailyBudgetUsd',
    ...released.map((type) => `approval.${type}`),
    ...TEMPLATE_TYPES.map((type) => `freeText.${type}`),
    ...CAPABILITIES.filter((capability) => !DEFAULT_PERMISSIONS.includes(capability)).map((capability) => `permissions.${capability}`),
    'blockList.removed',
    'admins.removed',
    'knownContacts.added',
    'dailySummary.off',
    'workingHours.widened',
    'model.retiring',
  ];
}

/** The crossed rails `confirmed` does not name. */
export function unconfirmedGuardRails(rails: readonly GuardRail[], confirmed: readonly string[]): GuardRail[] {
  const named = new Set(confirmed);
  return rails.filter((rail) => !named.has(rail.id));
}

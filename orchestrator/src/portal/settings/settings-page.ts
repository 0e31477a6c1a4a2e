import { CAPABILITIES, FREE_TEXT_AUTO_SEND_RISK, MODEL_DAILY_BUDGET_USD, TEMPLATE_TYPES, type ClientConfig } from '@agent-fleet/kernel/client-config';
import type { GuardRail } from '@agent-fleet/kernel/settings-guard-rails';
import type { PortalGraduationRow, PortalSettingsHead } from '../settings-gateway.ts';
import { CAPABILITY_LABELS, EMAIL_TYPE_LABELS, FORM_FIELD_LABELS, RULE_TYPES, guardRailTitle } from './labels.ts';
import type { FieldErrors, Section } from './settings-form.ts';

const DAY_MS = 86_400_000;

export interface Banner {
  tone: 'done' | 'blocked' | 'expired';
  text: string;
  /** Offer to reload (a stale edit). */
  reload?: boolean;
}

/** What the settings page shows: the head's values, or a failed section's submitted ones with its errors. */
export function settingsPageModel(input: {
  head: PortalSettingsHead;
  graduation: PortalGraduationRow[] | null;
  failed?: { section: Section; form: Record<string, unknown>; errors: FieldErrors } | undefined;
  banner?: Banner | null | undefined;
  now: Date;
}) {
  const { head, failed } = input;
  const config = head.config;
  const submitted = (section: Section) => (failed?.section === section ? failed.form : null);
  const value = (section: Section, name: string, fallback: string) => {
    const form = submitted(section);
    return form === null ? fallback : typeof form[name] === 'string' ? (form[name] as string) : '';
  };
  const permissions = submitted('permissions');
  const rules = submitted('rules');
  const freeText = submitted('freetext');
  const optedIn = new Set(config.autoReply.freeTextAutoSend.map((entry) => entry.type));
  return {
    title: 'Settings',
    head,
    errors: failed?.errors ?? {},
    // What to check, named as the page names it and linked to its message (never a field's internal name).
    // A field the page has no place for (a problem with the whole form) shows its message here instead.
    errorSummary: Object.entries(failed?.errors ?? {}).map(([field, message]) =>
      FORM_FIELD_LABELS[field] === undefined
        ? { label: message, anchor: null }
        : { label: FORM_FIELD_LABELS[field], anchor: field === 'reason' ? `err-reason-${failed?.section ?? ''}` : `err-${field}` },
    ),
    failedSection: failed?.section ?? null,
    reason: typeof failed?.form['reason'] === 'string' ? failed.form['reason'] : '',
    banner: input.banner ?? null,
    capabilities: CAPABILITIES.map((id) => ({ id, label: CAPABILITY_LABELS[id], checked: permissions === null ? config.permissions[id] === true : permissions[id] === 'on' })),
    rules: RULE_TYPES.map((type) => ({
      type,
      label: EMAIL_TYPE_LABELS[type],
      choice: rules === null ? ruleOf(config, type) : typeof rules[`type.${type}`] === 'string' ? (rules[`type.${type}`] as string) : 'ask',
    })),
    blockList: value('blocklist', 'blockList', config.blockList.join('\n')),
    limits: {
      perHour: value('limits', 'perHour', String(config.rateLimits.perHour)),
      perDay: value('limits', 'perDay', String(config.rateLimits.perDay)),
      bulkThreshold: value('limits', 'bulkThreshold', String(config.bulkThreshold)),
      approvalTimeoutHours: value('limits', 'approvalTimeoutHours', String(config.approvalTimeoutHours)),
      onboardingDays: value('limits', 'onboardingDays', String(config.onboarding.days)),
      modelDailyBudgetUsd: value('limits', 'modelDailyBudgetUsd', dollarText(config.modelDailyBudgetUsd)),
    },
    modelBudgetDefault: dollarText(MODEL_DAILY_BUDGET_USD),
    timezone: config.timezone,
    onboardingEnds: config.onboarding.startedAt === undefined ? null : new Date(Date.parse(config.onboarding.startedAt) + config.onboarding.days * DAY_MS).toISOString(),
    inOnboarding: config.onboarding.startedAt === undefined || input.now.getTime() < Date.parse(config.onboarding.startedAt) + config.onboarding.days * DAY_MS,
    freeText: TEMPLATE_TYPES.map((type) => ({
      type,
      label: EMAIL_TYPE_LABELS[type],
      checked: freeText === null ? optedIn.has(type) : freeText[`freeText.${type}`] === 'on',
      autoSend: config.autoSendTypes.includes(type),
    })),
    freeTextRisk: FREE_TEXT_AUTO_SEND_RISK,
    graduation: input.graduation?.map((row) => ({ ...row, label: EMAIL_TYPE_LABELS[row.type as keyof typeof EMAIL_TYPE_LABELS] ?? row.type })) ?? null,
  };
}

/**
 * An amount of US dollars as the form shows it: `20`, `12.50`. A value set by the agency with more
 * decimals is shown as it is, never rounded: saving the form unchanged must not change the budget.
 */
export function dollarText(amount: number): string {
  if (Number.isInteger(amount)) return String(amount);
  const cents = amount.toFixed(2);
  return Number(cents) === amount ? cents : String(amount);
}

function ruleOf(config: ClientConfig, type: (typeof RULE_TYPES)[number]): 'auto' | 'ask' | 'always' {
  if (config.alwaysApprovalTypes.includes(type)) return 'always';
  return config.autoSendTypes.includes(type) ? 'auto' : 'ask';
}

/** The confirmation step: each risk, the fields the change touches, and the change carried back. */
export function confirmPageModel(input: { rails: readonly GuardRail[]; changes: string[]; action: string; hidden: Record<string, string> }) {
  return {
    title: 'Confirm this change',
    rails: input.rails.map((rail) => ({ id: rail.id, title: guardRailTitle(rail.id), risk: rail.risk })),
    changes: input.changes,
    action: input.action,
    hidden: Object.entries(input.hidden).map(([name, value]) => ({ name, value })),
  };
}

import * as z from 'zod';
import {
  CAPABILITIES,
  FREE_TEXT_AUTO_SEND_RISK,
  TEMPLATE_TYPES,
  clientConfigSchema,
  type Capability,
  type ClientConfig,
  type EmailType,
} from '@agent-fleet/kernel/client-config';
import { inPlainWords } from './change-text.ts';
import { RULE_TYPES } from './labels.ts';

/**
 * The settings forms of the portal, one per section, as pure functions: a submitted form becomes a patch
 * of the settings document (or errors by field); a patch applied to the head gives the new document,
 * which the config schema judges, its issues mapped back to the form field that shows them.
 */

export const SECTIONS = ['permissions', 'rules', 'blocklist', 'limits', 'freetext'] as const;
export type Section = (typeof SECTIONS)[number];

/** Field errors by form field id; a field not named is fine. */
export type FieldErrors = Record<string, string>;

export class FormProblems extends Error {
  readonly errors: FieldErrors;
  constructor(errors: FieldErrors) {
    super(Object.entries(errors).map(([field, message]) => `${field}: ${message}`).join('; '));
    this.errors = errors;
  }
}

const intField = z.number().int();
/** A number of US dollars with at most two decimals (cents), as the form reads it. */
const inCents = (value: number): boolean => Number.isFinite(value) && Math.round(value * 100) / 100 === value;
/** A list of the types a form offers, each at most once. */
const typeList = <T extends string>(types: readonly T[]) =>
  z
    .array(z.string().refine((type) => (types as readonly string[]).includes(type)))
    .refine((list) => new Set(list).size === list.length)
    .transform((list) => list as T[]);
/**
 * What a section changes; the confirmation step carries it back as JSON (so it is checked again), and it
 * may hold no more than the forms offer: every capability, the rule types (never spam or newsletters).
 */
export const patchSchema = z
  .object({
    permissions: z.record(z.enum(CAPABILITIES), z.boolean()).optional(),
    autoSendTypes: typeList(RULE_TYPES).optional(),
    alwaysApprovalTypes: typeList(RULE_TYPES).optional(),
    blockList: z.array(z.string().max(500)).max(20_000).optional(),
    rateLimits: z.object({ perHour: intField, perDay: intField }).strict().optional(),
    bulkThreshold: intField.optional(),
    approvalTimeoutHours: intField.optional(),
    onboardingDays: intField.optional(),
    modelDailyBudgetUsd: z.number().refine(inCents).optional(),
    freeText: typeList(TEMPLATE_TYPES).optional(),
  })
  .strict();
export type SettingsPatch = z.output<typeof patchSchema>;

/** The patch fields each section's form makes: a patch carried back for one section may not change another's. */
const SECTION_PATCH_FIELDS: Record<Section, readonly (keyof SettingsPatch)[]> = {
  permissions: ['permissions'],
  rules: ['autoSendTypes', 'alwaysApprovalTypes'],
  blocklist: ['blockList'],
  limits: ['rateLimits', 'bulkThreshold', 'approvalTimeoutHours', 'onboardingDays', 'modelDailyBudgetUsd'],
  freetext: ['freeText'],
};

/**
 * Whether a patch is one the section's form makes: only that section's fields, all of them (a rules patch
 * without its always-approval list would empty that list).
 */
export function patchFitsSection(section: Section, patch: SettingsPatch): boolean {
  const fields = SECTION_PATCH_FIELDS[section];
  const given = Object.keys(patch);
  return given.length === fields.length && fields.every((field) => patch[field] !== undefined);
}

type Form = Record<string, unknown>;
const text = (form: Form, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
const checked = (form: Form, name: string) => form[name] === 'on';

function whole(form: Form, name: string, errors: FieldErrors): number {
  const value = text(form, name).trim();
  if (!/^\d{1,7}$/.test(value)) {
    errors[name] = 'must be a whole number';
    return 0;
  }
  return Number(value);
}

/** The most the daily model budget may be, US dollars (the config schema's bound, said in the form's words). */
export const MODEL_BUDGET_MAX_USD = 10_000;

/**
 * An amount of US dollars as a client admin types it: `20`, `12.50`, `12,50`, `$25`; at most two
 * decimals and at most MODEL_BUDGET_MAX_USD. Each wrong spelling gets its own message, since "must be a number" does not
 * tell someone who typed `1,500` or `12.345` what to write instead.
 */
function dollars(form: Form, name: string, errors: FieldErrors): number {
  const typed = text(form, name).trim().replace(/^(?:US)?\$\s*/i, '');
  // A phone's decimal keypad in many locales has a comma and no point: `12,50` is cents (a thousands
  // separator always groups three digits, so `1,500` stays ambiguous and is refused).
  const value = /^\d+,\d{1,2}$/.test(typed) ? typed.replace(',', '.') : typed;
  const amount = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (value === '') errors[name] = 'is required: an amount in US dollars, for example 20';
  else if (value.startsWith('-')) errors[name] = 'must be 0 or more';
  else if (amount === null) errors[name] = value.includes(',') ? 'write it without a thousands separator: for example 1500 or 12.50' : 'must be an amount in US dollars, for example 20 or 12.50';
  else if ((amount[2] ?? '').length > 2) errors[name] = 'may have at most two decimals (cents)';
  else if (Number(value) > MODEL_BUDGET_MAX_USD) errors[name] = 'must be at most 10000 US dollars';
  else return Number(value);
  return 0;
}

/** The patch a section's form asks for; FormProblems naming the fields it cannot read. */
export function patchOfForm(section: Section, form: Form): SettingsPatch {
  const errors: FieldErrors = {};
  let patch: SettingsPatch;
  switch (section) {
    case 'permissions':
      patch = { permissions: Object.fromEntries(CAPABILITIES.map((capability) => [capability, checked(form, capability)])) as Record<Capability, boolean> };
      break;
    case 'rules': {
      const autoSendTypes: EmailType[] = [];
      const alwaysApprovalTypes: EmailType[] = [];
      for (const type of RULE_TYPES) {
        const choice = text(form, `type.${type}`);
        if (choice === 'auto') autoSendTypes.push(type);
        else if (choice === 'always') alwaysApprovalTypes.push(type);
        else if (choice !== 'ask') errors['rules'] = `${type}: choose one of the three rules`;
      }
      patch = { autoSendTypes, alwaysApprovalTypes };
      break;
    }
    case 'blocklist': {
      const raw = text(form, 'blockList');
      if (raw.length > 250_000) errors['blockList'] = 'is longer than 250 000 characters';
      patch = { blockList: raw.split(/[\n,;]/).map((entry) => entry.trim()).filter((entry) => entry !== '') };
      break;
    }
    case 'limits':
      patch = {
        rateLimits: { perHour: whole(form, 'perHour', errors), perDay: whole(form, 'perDay', errors) },
        bulkThreshold: whole(form, 'bulkThreshold', errors),
        approvalTimeoutHours: whole(form, 'approvalTimeoutHours', errors),
        onboardingDays: whole(form, 'onboardingDays', errors),
        modelDailyBudgetUsd: dollars(form, 'modelDailyBudgetUsd', errors),
      };
      break;
    case 'freetext':
      patch = { freeText: TEMPLATE_TYPES.filter((type) => checked(form, `freeText.${type}`)) };
      break;
  }
  if (Object.keys(errors).length > 0) throw new FormProblems(errors);
  return patch;
}

/** The head's document with the patch applied (not yet validated). Free-text opt-ins record who accepted. */
export function applyPatch(head: ClientConfig, patch: SettingsPatch, admin: string, now: Date): unknown {
  const document = JSON.parse(JSON.stringify(head)) as Record<string, unknown> & ClientConfig;
  if (patch.permissions !== undefined) document.permissions = patch.permissions;
  // Spam and newsletters are not offered by the form: their rule is kept as it was. A list the patch does
  // not give is kept whole (never emptied: an absent always-approval list is not "none").
  const kept = (list: readonly string[]) => list.filter((type) => !(RULE_TYPES as readonly string[]).includes(type));
  if (patch.autoSendTypes !== undefined) {
    document.autoSendTypes = [...patch.autoSendTypes, ...kept(head.autoSendTypes)] as ClientConfig['autoSendTypes'];
  }
  if (patch.alwaysApprovalTypes !== undefined) {
    document.alwaysApprovalTypes = [...patch.alwaysApprovalTypes, ...kept(head.alwaysApprovalTypes)] as ClientConfig['alwaysApprovalTypes'];
  }
  if (patch.blockList !== undefined) document.blockList = patch.blockList;
  if (patch.rateLimits !== undefined) document.rateLimits = patch.rateLimits;
  if (patch.bulkThreshold !== undefined) document.bulkThreshold = patch.bulkThreshold;
  if (patch.approvalTimeoutHours !== undefined) document.approvalTimeoutHours = patch.approvalTimeoutHours;
  if (patch.modelDailyBudgetUsd !== undefined) document.modelDailyBudgetUsd = patch.modelDailyBudgetUsd;
  if (patch.onboardingDays !== undefined) {
    document.onboarding = { ...head.onboarding, days: patch.onboardingDays, startedAt: head.onboarding.startedAt ?? now.toISOString() };
  }
  if (patch.freeText !== undefined) {
    const existing = new Map(head.autoReply.freeTextAutoSend.map((entry) => [entry.type, entry]));
    document.autoReply = {
      ...head.autoReply,
      freeTextAutoSend: patch.freeText.map(
        (type) => existing.get(type) ?? { type, acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy: admin, acceptedAt: now.toISOString() },
      ),
    };
  }
  return document;
}

/**
 * The settings the portal's sections edit, as diffSettings names their paths; everything else in the
 * document (admins, mailbox, provider, time zone, model, dry run, push, …) is the agency's to change.
 */
const PORTAL_FIELDS = ['permissions', 'autoSendTypes', 'alwaysApprovalTypes', 'blockList', 'rateLimits', 'bulkThreshold', 'approvalTimeoutHours', 'modelDailyBudgetUsd', 'onboarding', 'autoReply.freeTextAutoSend'];

/** The changed paths (`diffSettings`) that no section of the portal edits: a client admin may not make them. */
export function agencyOnlyPaths(paths: readonly string[]): string[] {
  return paths.filter((path) => !PORTAL_FIELDS.some((field) => path === field || path.startsWith(`${field}.`)));
}

/** The form field that shows a schema issue at `path`. */
export function fieldOf(path: readonly PropertyKey[]): string {
  const [head, second] = path;
  if (head === 'permissions') return 'permissions';
  if (head === 'autoSendTypes' || head === 'alwaysApprovalTypes') return 'rules';
  if (head === 'blockList') return 'blockList';
  if (head === 'rateLimits') return second === 'perDay' ? 'perDay' : 'perHour';
  if (head === 'onboarding') return 'onboardingDays';
  if (head === 'autoReply') return 'freeText';
  return typeof head === 'string' ? head : 'form';
}

/** Validates the new document with the config schema: the config, or FormProblems by field. */
export function validatedDocument(document: unknown, patch: SettingsPatch): ClientConfig {
  const result = clientConfigSchema.safeParse(document);
  if (result.success) return result.data;
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = fieldOf(issue.path);
    if (errors[field] !== undefined) continue;
    const line = issue.path[0] === 'blockList' && typeof issue.path[1] === 'number' ? issue.path[1] : null;
    const entry = line === null ? undefined : patch.blockList?.[line];
    const message = inPlainWords(issue.message);
    errors[field] = line === null ? message : `line ${line + 1} (“${(entry ?? '').slice(0, 60)}”): ${message}`;
  }
  throw new FormProblems(errors);
}

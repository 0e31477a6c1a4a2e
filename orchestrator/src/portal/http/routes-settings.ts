import express from 'express';
import * as z from 'zod';
import { CAPABILITIES, TEMPLATE_TYPES, type ClientConfig, type EmailType } from '@agent-fleet/kernel/client-config';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { plainChange } from '../settings/change-text.ts';
import { crossedGuardRails, unconfirmedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import type { PortalContext } from '../portal-context.ts';
import { RULE_TYPES } from '../settings/labels.ts';
import { FormProblems, SECTIONS, applyPatch, patchFitsSection, patchOfForm, patchSchema, validatedDocument, type Section, type SettingsPatch } from '../settings/settings-form.ts';
import { confirmPageModel, settingsPageModel, type Banner } from '../settings/settings-page.ts';
import { csrfField, csrfOnlyForm, parseForm, requiredText } from './forms.ts';
import { badField, notFound } from './page-error.ts';
import { renderPage } from './render.ts';
import { requireActive, requireCsrf, route, stateOf } from './request-state.ts';

type Admin = { clientId: string; email: string };

const COMMON = ['_csrf', 'base', 'reason'];
const SECTION_FIELDS: Record<Section, readonly string[]> = {
  permissions: CAPABILITIES,
  rules: RULE_TYPES.map((type) => `type.${type}`),
  blocklist: ['blockList'],
  limits: ['perHour', 'perDay', 'bulkThreshold', 'approvalTimeoutHours', 'onboardingDays', 'modelDailyBudgetUsd'],
  freetext: TEMPLATE_TYPES.map((type) => `freeText.${type}`),
};
/** Every field a section's form may send. */
export function sectionFormFields(section: Section): readonly string[] {
  return [...COMMON, ...SECTION_FIELDS[section]];
}
const baseField = z.string().regex(/^\d{1,9}$/, 'is not a version').transform(Number);
const reasonField = requiredText(500);
/**
 * The ids of the guard rails the confirmation page showed, comma-separated: only those are confirmed. A
 * post without them (a page from before they were carried) confirms none, so the page is shown again.
 */
const shownRailsField = z
  .string()
  .max(4000)
  .regex(/^[A-Za-z0-9_.,-]*$/, 'is not the change the page offered')
  .optional()
  .transform((ids) => (ids ?? '').split(',').filter((id) => id !== ''));
const confirmForm = z
  .object({
    _csrf: csrfField,
    base: baseField,
    reason: reasonField,
    section: z.enum(SECTIONS),
    patch: z.string().max(300_000),
    rails: shownRailsField,
    confirm: z.literal('yes', { error: 'tick the box to confirm' }),
  })
  .strict();
const graduateForm = z.object({ _csrf: csrfField, base: baseField, type: z.string().max(64) }).strict();
const savedQuery = z.object({ saved: z.string().regex(/^\d{1,9}$/, 'is not a version').optional() }).strict();

export function adminOf(response: express.Response): Admin {
  const admin = stateOf(response).admin;
  if (!admin) throw notFound();
  return admin;
}

/** Renders the settings page (graduation figures are shown when the agent gives them). */
export async function showSettings(context: PortalContext, response: express.Response, admin: Admin, extra: Omit<Parameters<typeof settingsPageModel>[0], 'head' | 'graduation' | 'now'> = {}, status = 200): Promise<void> {
  const [head, graduation] = await Promise.all([context.settings.current(admin.clientId), context.settings.graduation(admin.clientId).catch(() => null)]);
  await renderPage(context, response, 'settings', settingsPageModel({ ...extra, head, graduation, now: context.clock.now() }), status);
}

/**
 * Applies a patch to the head after the checks, in order: the edit started from the head (else "changed
 * by X at T, reload"), the new document passes the schema (else errors next to the fields), every guard
 * rail crossed is among those the admin confirmed on the confirmation page (else that page, listing them
 * all); then one new version, or nothing at all. `confirmed` names the rails the page showed, so a
 * confirmation given for one change never carries a different one past its rails.
 */
export async function submitChange(
  context: PortalContext,
  response: express.Response,
  input: { admin: Admin; section: Section; form: Record<string, unknown>; patch: SettingsPatch; base: number; reason: string; confirmed: readonly string[] },
): Promise<void> {
  const { admin, section, patch, base, reason } = input;
  const now = context.clock.now();
  const head = await context.settings.current(admin.clientId);
  const stale = (text: string): Banner => ({ tone: 'blocked', text: `Not saved: ${text}`, reload: true });
  if (head.version !== base) return showSettings(context, response, admin, { banner: stale(`changed by ${head.author} at ${head.at}, reload`) }, 409);
  let document: ClientConfig;
  try {
    document = validatedDocument(applyPatch(head.config, patch, admin.email, now), patch);
  } catch (error) {
    if (!(error instanceof FormProblems)) throw error;
    return showSettings(context, response, admin, { failed: { section, form: input.form, errors: error.errors } }, 400);
  }
  const rails = crossedGuardRails(head.config, document, now);
  if (unconfirmedGuardRails(rails, input.confirmed).length > 0) {
    const changes = diffSettings(head.config, document).map(plainChange);
    const hidden = { base: String(base), reason, section, patch: JSON.stringify(patch), rails: rails.map((rail) => rail.id).join(',') };
    await renderPage(context, response, 'settings-confirm', confirmPageModel({ rails, changes, action: '/settings/confirm', hidden }));
    return;
  }
  try {
    const made = await context.settings.change(admin.clientId, { baseVersion: base, document, reason, confirm: rails.map((rail) => rail.id) }, admin.email);
    response.redirect(303, made.changed ? `/settings?saved=${made.version}` : '/settings');
  } catch (error) {
    if (isFleetError(error) && error.code === 'conflict') return showSettings(context, response, admin, { banner: stale(error.message) }, 409);
    if (isFleetError(error) && error.code === 'invalid_input') return showSettings(context, response, admin, { banner: { tone: 'blocked', text: `Not saved: ${error.message}` } }, 400);
    throw error;
  }
}

/** The settings page, one form per section, the confirmation step, graduation and narrowing the grant. */
export function settingsRoutes(context: PortalContext): express.Router {
  const router = express.Router();
  router.use('/settings', requireActive);
  router.get(
    '/settings',
    route(async (request, response) => {
      const query = parseForm(savedQuery, request.query);
      const banner: Banner | null = query.saved === undefined ? null : { tone: 'done', text: `Saved as version ${query.saved}. It applies from now on, to the very next action.` };
      await showSettings(context, response, adminOf(response), { banner });
    }),
  );
  router.post(
    '/settings/section/:section',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const section = SECTIONS.find((candidate) => candidate === request.params['section']);
      if (section === undefined) throw notFound();
      const form = (request.body ?? {}) as Record<string, unknown>;
      const unknown = Object.keys(form).find((name) => !sectionFormFields(section).includes(name));
      if (unknown !== undefined) throw badField(unknown, 'is not a field of this form');
      const base = parseForm(z.object({ base: baseField }).loose(), form).base;
      const admin = adminOf(response);
      const reason = reasonField.safeParse(form['reason']);
      let patch: SettingsPatch;
      try {
        patch = patchOfForm(section, form);
        if (!reason.success) {
          const given = typeof form['reason'] === 'string' && form['reason'].trim() !== '';
          throw new FormProblems({ reason: given ? (reason.error.issues[0]?.message ?? 'is not valid') : 'is required: say why (it is kept with the version)' });
        }
      } catch (error) {
        if (!(error instanceof FormProblems)) throw error;
        return showSettings(context, response, admin, { failed: { section, form, errors: error.errors } }, 400);
      }
      await submitChange(context, response, { admin, section, form, patch, base, reason: reason.data, confirmed: [] });
    }),
  );
  router.post(
    '/settings/confirm',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const form = parseForm(confirmForm, request.body);
      let raw: unknown;
      try {
        raw = JSON.parse(form.patch);
      } catch {
        throw badField('patch', 'is not the change the page offered');
      }
      const patch = patchSchema.safeParse(raw);
      if (!patch.success || !patchFitsSection(form.section, patch.data)) throw badField('patch', 'is not the change the page offered');
      const admin = adminOf(response);
      await submitChange(context, response, { admin, section: form.section, form: {}, patch: patch.data, base: form.base, reason: form.reason, confirmed: form.rails });
    }),
  );
  router.post(
    '/settings/graduate',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const form = parseForm(graduateForm, request.body);
      const admin = adminOf(response);
      const row = (await context.settings.graduation(admin.clientId)).find((candidate) => candidate.type === form.type && candidate.suggest);
      if (row === undefined) throw badField('type', 'is not suggested for auto-send');
      const head = await context.settings.current(admin.clientId);
      const type = row.type as EmailType;
      const patch: SettingsPatch = {
        autoSendTypes: [...new Set([...head.config.autoSendTypes.filter((t) => RULE_TYPES.includes(t)), type])],
        alwaysApprovalTypes: head.config.alwaysApprovalTypes.filter((t) => t !== type && RULE_TYPES.includes(t)),
      };
      const reason = `auto-send for ${row.type}: ${row.unchanged} of ${row.decisions} drafts were approved unchanged`;
      await submitChange(context, response, { admin, section: 'rules', form: {}, patch, base: form.base, reason, confirmed: [] });
    }),
  );
  router.post(
    '/settings/narrow',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      parseForm(csrfOnlyForm, request.body);
      const admin = adminOf(response);
      try {
        await context.settings.requestNarrowing(admin.clientId, admin.email);
      } catch (error) {
        if (!(isFleetError(error) && error.code === 'conflict')) throw error;
        return showSettings(context, response, admin, { banner: { tone: 'expired', text: `Nothing to narrow: ${error.message}.` } }, 409);
      }
      await showSettings(context, response, admin, { banner: { tone: 'done', text: 'Recorded: the agency will ask only for what your settings need at the next consent.' } });
    }),
  );
  return router;
}

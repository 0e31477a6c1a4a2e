import express from 'express';
import * as z from 'zod';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { plainChange } from '../settings/change-text.ts';
import { crossedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import type { PortalContext } from '../portal-context.ts';
import { guardRailTitle } from '../settings/labels.ts';
import { agencyOnlyPaths } from '../settings/settings-form.ts';
import { confirmPageModel } from '../settings/settings-page.ts';
import { csrfField, parseForm, requiredText } from './forms.ts';
import { renderPage } from './render.ts';
import { requireActive, requireCsrf, route } from './request-state.ts';
import { adminOf, showSettings } from './routes-settings.ts';

const HISTORY_LIMIT = 100;
const whole = z.string().regex(/^\d{1,9}$/, 'is not a version').transform(Number);
const rollbackForm = z
  .object({ _csrf: csrfField, base: whole, version: whole, reason: requiredText(500), confirm: z.literal('yes').optional() })
  .strict();

/** The settings history, newest first, with each version's author, reason, changes and guard rails; rollback. */
export function settingsHistoryRoutes(context: PortalContext): express.Router {
  const router = express.Router();
  router.use('/settings', requireActive);
  router.get(
    '/settings/history',
    route(async (_request, response) => {
      const admin = adminOf(response);
      const versions = await context.settings.history(admin.clientId, HISTORY_LIMIT);
      await renderPage(context, response, 'settings-history', {
        title: 'Settings history',
        head: versions[0]?.version ?? 0,
        limit: HISTORY_LIMIT,
        versions: versions.map((version) => ({ ...version, rails: version.guardRails.map(guardRailTitle) })),
      });
    }),
  );
  router.post(
    '/settings/rollback',
    requireCsrf(context, 'active'),
    route(async (request, response) => {
      const form = parseForm(rollbackForm, request.body);
      const admin = adminOf(response);
      const head = await context.settings.current(admin.clientId);
      if (head.version !== form.base) {
        return showSettings(context, response, admin, { banner: { tone: 'blocked', text: `Not restored: changed by ${head.author} at ${head.at}, reload`, reload: true } }, 409);
      }
      const target = await context.settings.versionConfig(admin.clientId, form.version);
      // A restore is the whole document: it may not carry back what only the agency changes (an admin list, the mailbox).
      const agencyOnly = agencyOnlyPaths(diffSettings(head.config, target).map((change) => change.path));
      if (agencyOnly.length > 0) {
        const fields = [...new Set(agencyOnly.map((path) => path.split('.')[0]))].join(', ');
        const text = `Not restored: version ${form.version} also differs in settings only the agency changes (${fields}), and restoring it would change those too. Change the sections below instead, or ask the agency to restore it.`;
        return showSettings(context, response, admin, { banner: { tone: 'blocked', text } }, 409);
      }
      const rails = crossedGuardRails(head.config, target, context.clock.now());
      if (rails.length > 0 && form.confirm !== 'yes') {
        const changes = diffSettings(head.config, target).map(plainChange);
        const hidden = { base: String(form.base), version: String(form.version), reason: form.reason };
        await renderPage(context, response, 'settings-confirm', confirmPageModel({ rails, changes, action: '/settings/rollback', hidden }));
        return;
      }
      try {
        const made = await context.settings.rollback(admin.clientId, { toVersion: form.version, baseVersion: form.base, reason: form.reason, confirm: rails.map((rail) => rail.id) }, admin.email);
        response.redirect(303, made.changed ? `/settings?saved=${made.version}` : '/settings');
      } catch (error) {
        if (isFleetError(error) && (error.code === 'conflict' || error.code === 'invalid_input')) {
          return showSettings(context, response, admin, { banner: { tone: 'blocked', text: `Not restored: ${error.message}`, reload: error.code === 'conflict' } }, error.code === 'conflict' ? 409 : 400);
        }
        throw error;
      }
    }),
  );
  return router;
}

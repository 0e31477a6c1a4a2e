// The settings confirmation step under crafted posts: a change crossing a guard rail is shown before it is
// saved, and a confirmation is good only for the rails the page showed, for the section that made it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { CAPABILITIES, parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { applyPatch, patchFitsSection } from '../../../orchestrator/src/portal/settings/settings-form.ts';
import { hiddenValue, RecordingSettings, startSettingsHarness } from '../../helpers/settings-routes.ts';
import type { RouteHarness } from './portal-route-harness.ts';

function config(): ClientConfig {
  const parsed = parseClientConfig({ client: 'acme', admins: ['dana@acme.example'], onboarding: { startedAt: '2026-01-01T00:00:00.000Z', days: 28 }, blockList: ['rival.example'] });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
}

/** The permissions form as the page posts it: the ticked capabilities. */
function permissionsForm(granted: readonly string[]): Record<string, string> {
  return Object.fromEntries(CAPABILITIES.filter((capability) => granted.includes(capability)).map((capability) => [capability, 'on']));
}

describe('settings confirmation under crafted posts', () => {
  let settings: RecordingSettings;
  let harness: RouteHarness;
  before(async () => {
    harness = await startSettingsHarness(() => settings);
  });
  after(() => harness.close());
  beforeEach(() => {
    settings = new RecordingSettings(config());
  });

  const defaults = ['mail.read', 'mail.draft', 'mail.label', 'calendar.read'];

  test('granting the send permission is shown for confirmation first, naming the rail, and not saved', async () => {
    const page = await harness.post('/settings/section/permissions', { base: '4', reason: 'go live', ...permissionsForm([...defaults, 'mail.send']) });
    assert.equal(page.status, 200);
    assert.match(page.text, /Confirm this change/);
    assert.match(page.text, /Allowing the assistant to: Send email/);
    assert.equal(hiddenValue(page.text, 'rails'), 'permissions.mail.send');
    assert.equal(settings.changes.length, 0);
  });

  test('a confirmation carried back with a different patch is not a confirmation of its rails: the page is shown again', async () => {
    const shown = await harness.post('/settings/section/permissions', { base: '4', reason: 'go live', ...permissionsForm([...defaults, 'mail.send']) });
    const patch = JSON.parse(hiddenValue(shown.text, 'patch') ?? '{}') as { permissions: Record<string, boolean> };
    patch.permissions['crm.write'] = true;
    const crafted = await harness.post('/settings/confirm', { base: '4', reason: 'go live', section: 'permissions', patch: JSON.stringify(patch), rails: 'permissions.mail.send', confirm: 'yes' });
    assert.equal(crafted.status, 200);
    assert.match(crafted.text, /Confirm this change/);
    assert.match(crafted.text, /Write notes to your CRM/);
    assert.equal(settings.changes.length, 0, 'nothing saved on a confirmation of other rails');
    const honest = await harness.post('/settings/confirm', { base: '4', reason: 'go live', section: 'permissions', patch: hiddenValue(shown.text, 'patch') ?? '', rails: hiddenValue(shown.text, 'rails') ?? '', confirm: 'yes' });
    assert.equal(honest.status, 303);
    assert.deepEqual(settings.changes.map((change) => change.confirm), [['permissions.mail.send']]);
    assert.notEqual(settings.changes[0]?.document.permissions['crm.write'], true, 'what was confirmed is what is saved');
  });

  test('a confirmation without the rails the page showed saves nothing', async () => {
    const patch = JSON.stringify({ blockList: [] });
    const crafted = await harness.post('/settings/confirm', { base: '4', reason: 'x', section: 'blocklist', patch, rails: '', confirm: 'yes' });
    assert.match(crafted.text, /Removing addresses or domains from the block list/);
    assert.equal(settings.changes.length, 0);
  });

  test('a patch carried back for another section, or for part of one, is refused', async () => {
    const permissions = JSON.stringify({ permissions: { 'mail.read': true } });
    assert.equal((await harness.post('/settings/confirm', { base: '4', reason: 'x', section: 'limits', patch: permissions, rails: '', confirm: 'yes' })).status, 400);
    // Without its always-approval list a rules patch emptied that list.
    const half = JSON.stringify({ autoSendTypes: ['acknowledgement', 'scheduling_confirmation', 'follow_up'] });
    assert.equal((await harness.post('/settings/confirm', { base: '4', reason: 'x', section: 'rules', patch: half, rails: '', confirm: 'yes' })).status, 400);
    assert.equal(settings.changes.length, 0);
    assert.equal(patchFitsSection('rules', { autoSendTypes: [], alwaysApprovalTypes: ['offer'] }), true);
    assert.equal(patchFitsSection('limits', { rateLimits: { perHour: 1, perDay: 2 } }), false);
  });

  test('a change that only tightens is saved at once, without a confirmation', async () => {
    const answer = await harness.post('/settings/section/blocklist', { base: '4', reason: 'more', blockList: 'rival.example\npress.example' });
    assert.equal(answer.status, 303);
    assert.deepEqual(settings.changes.map((change) => change.confirm), [[]]);
  });
});

describe('applying a rules patch', () => {
  const NOW = new Date('2026-03-10T12:00:00.000Z');
  test('a list the patch does not give is kept whole, never emptied', () => {
    const head = config();
    const onlyAuto = applyPatch(head, { autoSendTypes: ['acknowledgement'] }, 'dana@acme.example', NOW) as ClientConfig;
    assert.deepEqual(onlyAuto.alwaysApprovalTypes, head.alwaysApprovalTypes);
    const onlyAlways = applyPatch(head, { alwaysApprovalTypes: [...head.alwaysApprovalTypes, 'complaint'] }, 'dana@acme.example', NOW) as ClientConfig;
    assert.ok(onlyAlways.alwaysApprovalTypes.includes('complaint'), 'an always-approval list given alone is applied');
    assert.deepEqual(onlyAlways.autoSendTypes, head.autoSendTypes);
  });
});

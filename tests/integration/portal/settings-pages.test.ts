// The portal's settings pages in Chromium over the settings test double (which follows the agent's rules
// with the kernel's functions): accepting a graduation suggestion is an ordinary change; restoring an
// older version asks to confirm the safeguard it removes; a stale form, an unknown field, a forged
// CSRF token and a tampered confirmation are refused with nothing changed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchPortalBrowser, type AdminBrowser, type PortalBrowser } from './browser.ts';
import { csrfOf, enrolWithPasskey, postForm } from './flows.ts';
import { MemorySettingsGateway } from './memory-settings-gateway.ts';
import { startPortalHarness, type PortalHarness } from './portal-harness.ts';
import { seedSettings } from './settings-tour.ts';

void describe('settings pages', () => {
  let h: PortalHarness;
  let settings: MemorySettingsGateway;
  let chromium: PortalBrowser;
  let admin: AdminBrowser;
  const head = async () => settings.current('acme');

  before(async () => {
    settings = new MemorySettingsGateway();
    h = await startPortalHarness({}, undefined, settings);
    settings.now = () => h.clock.now();
    seedSettings(settings, h.clock.now());
    chromium = await launchPortalBrowser(h.portal.caCertificatePem ?? '');
    admin = await chromium.newAdmin();
    await enrolWithPasskey(h, admin, 'acme', 'admin@acme.com');
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  void test('accepting the graduation suggestion adds the type to auto-send as a new version, with the figures as its reason', async () => {
    const before = (await head()).version;
    await admin.page.goto(`${h.portal.url}/settings`);
    await admin.page.getByRole('button', { name: 'Send follow-ups on their own' }).click();
    await admin.page.getByText(`Saved as version ${before + 1}`).waitFor();
    const now = await head();
    assert.ok(now.config.autoSendTypes.includes('follow_up'));
    assert.equal(now.reason, 'auto-send for follow_up: 24 of 25 drafts were approved unchanged');
    assert.equal(now.author, 'admin@acme.com (client admin)');
    const refused = await postForm(h, admin.page, '/settings/graduate', { _csrf: await csrfOf(admin.page), base: String(now.version), type: 'offer' });
    assert.equal(refused.status, 400, 'a type that is not suggested is refused');
  });

  void test('restoring an older version shows its changes and asks to confirm the safeguard it removes', async () => {
    await admin.page.goto(`${h.portal.url}/settings`);
    const limits = admin.page.locator('section[aria-labelledby="h-limits"]');
    await limits.getByLabel(/^Recipients per hour/).fill('10');
    await limits.getByLabel(/^Why are you changing this/).fill('Quieter');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await admin.page.getByText(/Saved as version/).waitFor();
    const quieter = (await head()).version;
    await admin.page.goto(`${h.portal.url}/settings/history`);
    const older = admin.page.locator('li.item', { has: admin.page.getByRole('heading', { name: `Version ${quieter - 1}` }) });
    await older.getByText('Restore this version…').click();
    await older.getByLabel(/Why restore/).fill('Back to 40 an hour');
    await older.getByRole('button', { name: `Restore version ${quieter - 1}` }).click();
    await admin.page.getByRole('heading', { name: 'Raising the hourly limit above 20' }).waitFor();
    await admin.page.getByText('Recipients per hour: 10 → 40').waitFor();
    assert.equal((await head()).version, quieter, 'nothing changes before the confirmation');
    await admin.page.getByLabel(/I have read the risks/).check();
    await admin.page.getByRole('button', { name: 'Make the change' }).click();
    await admin.page.getByText(`Saved as version ${quieter + 1}`).waitFor();
    const history = await settings.history('acme', 1);
    assert.deepEqual([history[0]?.rollbackOf, history[0]?.guardRails], [quieter - 1, ['rateLimits.perHour']]);
  });

  void test('refused with nothing changed: a stale form, an unknown field, a forged token, a tampered confirmation', async () => {
    await admin.page.goto(`${h.portal.url}/settings`);
    const now = (await head()).version;
    const csrf = await csrfOf(admin.page);
    const stale = await postForm(h, admin.page, '/settings/section/blocklist', { _csrf: csrf, base: String(now - 1), reason: 'x', blockList: 'a.example' });
    assert.equal(stale.status, 409);
    assert.match(stale.text, /Not saved: changed by admin@acme\.com \(client admin\) at .*reload/);
    const unknown = await postForm(h, admin.page, '/settings/section/blocklist', { _csrf: csrf, base: String(now), reason: 'x', blockList: 'a.example', admins: 'evil@x.example' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /admins: is not a field of this form/);
    const forged = await postForm(h, admin.page, '/settings/section/blocklist', { _csrf: 'x'.repeat(43), base: String(now), reason: 'x', blockList: 'a.example' });
    assert.equal(forged.status, 403);
    const tampered = await postForm(h, admin.page, '/settings/confirm', { _csrf: csrf, base: String(now), reason: 'x', section: 'limits', patch: '{"admins":["evil@x.example"]}', confirm: 'yes' });
    assert.equal(tampered.status, 400);
    assert.equal((await head()).version, now);
  });
});

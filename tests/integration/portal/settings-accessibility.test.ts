// The settings pages in Chromium: axe-core finds nothing on the settings, its field errors, the
// confirmation step, the history and the summary with its charts, on a phone and a desktop.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, PHONE, assertAccessible, launchPortalBrowser, type PortalBrowser } from './browser.ts';
import { MemorySettingsGateway } from './memory-settings-gateway.ts';
import { startPortalHarness, type PortalHarness } from './portal-harness.ts';
import { SETTINGS_PAGES, tourSettings } from './settings-tour.ts';

void describe('settings pages: 0 axe violations on a phone and a desktop', () => {
  let h: PortalHarness;
  let settings: MemorySettingsGateway;
  let chromium: PortalBrowser;

  before(async () => {
    settings = new MemorySettingsGateway();
    h = await startPortalHarness({}, undefined, settings);
    settings.now = () => h.clock.now();
    chromium = await launchPortalBrowser(h.portal.caCertificatePem ?? '');
  });
  after(async () => {
    await chromium?.close();
    await h?.close();
  });

  for (const [name, viewport] of [
    ['phone 390×844', PHONE],
    ['desktop 1280×800', DESKTOP],
  ] as const) {
    void test(`every settings page at ${name}: 0 axe violations, nothing wider than the screen`, async () => {
      const seen: string[] = [];
      await tourSettings(h, settings, chromium, viewport, async (page, tab) => {
        seen.push(page);
        await assertAccessible(tab, `${page} (${name})`);
      });
      assert.deepEqual(seen, SETTINGS_PAGES);
    });
  }
});

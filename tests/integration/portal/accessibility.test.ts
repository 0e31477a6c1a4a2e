import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DESKTOP, PHONE, assertAccessible, type PortalBrowser } from './browser.ts';
import { tourPortal } from './page-tour.ts';
import type { PortalHarness } from './portal-harness.ts';
import { portalInChromium } from './portal-in-chromium.ts';

const PAGES = [
  'sign-in',
  'sign-in-error',
  'link-sign-in',
  'not-found',
  'enrol-start',
  'enrol-setup',
  'enrol-setup-app',
  'approvals',
  'approval',
  'approval-flagged',
  'approval-edit',
  'approval-expired',
  'approved',
  'bad-request',
  'review',
  'activity',
  'summary',
  'support',
  'export',
  'kill',
  'killed',
  'kill-stopped',
  'killed-again',
  'revive',
];

void describe('portal accessibility in Chromium: axe-core finds nothing on any page, on a phone and a desktop', () => {
  let h: PortalHarness;
  let chromium: PortalBrowser;

  portalInChromium((harness, browser) => {
    h = harness;
    chromium = browser;
  });

  for (const [name, viewport] of [
    ['phone 390×844', PHONE],
    ['desktop 1280×800', DESKTOP],
  ] as const) {
    void test(`every page at ${name}: 0 axe violations, nothing wider than the screen`, async () => {
      const seen: string[] = [];
      await tourPortal(h, chromium, viewport, name.split(' ')[0] ?? name, async (page, tab) => {
        seen.push(page);
        await assertAccessible(tab, `${page} (${name})`);
      });
      assert.deepEqual(seen, PAGES);
    });
  }
});

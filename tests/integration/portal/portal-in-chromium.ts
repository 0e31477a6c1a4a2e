import { after, before } from 'node:test';
import { launchPortalBrowser, type PortalBrowser } from './browser.ts';
import { startPortalHarness, type PortalHarness } from './portal-harness.ts';

/**
 * Hooks for a describe block: a portal of its own (so the sign-in routes' per-IP budget is not shared with
 * other blocks: every browser here is 127.0.0.1) and Chromium trusting its CA, both closed after. `ready`
 * hands them to the block's variables once started.
 */
export function portalInChromium(ready: (harness: PortalHarness, chromium: PortalBrowser) => void): void {
  let harness: PortalHarness | undefined;
  let chromium: PortalBrowser | undefined;
  before(async () => {
    harness = await startPortalHarness();
    chromium = await launchPortalBrowser(harness.portal.caCertificatePem ?? '');
    ready(harness, chromium);
  });
  after(async () => {
    await chromium?.close();
    await harness?.close();
  });
}

// Screenshots of every client-portal page, on a phone (390×844) and a desktop (1280×800), into
// docs/portal/. Run with `npm run docs:portal` (needs Debian's chromium and certutil:
// `bash scripts/ensure-system.sh chromium`). The portal runs for real over a test gateway with sample data.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DESKTOP, PHONE, launchPortalBrowser } from '../tests/integration/portal/browser.ts';
import { tourPortal } from '../tests/integration/portal/page-tour.ts';
import { MemorySettingsGateway } from '../tests/integration/portal/memory-settings-gateway.ts';
import { startPortalHarness } from '../tests/integration/portal/portal-harness.ts';
import { tourSettings } from '../tests/integration/portal/settings-tour.ts';

const OUT = fileURLToPath(new URL('../docs/portal/', import.meta.url));

for (const file of await readdir(OUT).catch(() => []))
  if (file.endsWith('.png')) await rm(path.join(OUT, file));
await mkdir(OUT, { recursive: true });
for (const [device, viewport] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  // A fresh portal per device, so that each set shows the same data.
  const settings = new MemorySettingsGateway();
  const harness = await startPortalHarness({}, undefined, settings);
  settings.now = () => harness.clock.now();
  const chromium = await launchPortalBrowser(harness.portal.caCertificatePem ?? '');
  try {
    const shoot = async (name: string, page: Parameters<Parameters<typeof tourPortal>[4]>[1]) => {
      const file = path.join(OUT, `${device}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
    };
    await tourPortal(harness, chromium, viewport, device, shoot);
    await tourSettings(harness, settings, chromium, viewport, shoot);
  } finally {
    await chromium.close();
    await harness.close();
  }
}

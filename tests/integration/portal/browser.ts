import { AxeBuilder } from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface AdminBrowser {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

export interface PortalBrowser {
  browser: Browser;
  /** A separate cookie jar (one admin) with a page carrying a CDP virtual passkey authenticator. */
  newAdmin(viewport?: { width: number; height: number }): Promise<AdminBrowser>;
  close(): Promise<void>;
}

/**
 * Debian's Chromium with a fresh HOME whose NSS database trusts only the fleet CA (so TLS is verified for
 * real: a certificate from elsewhere, or for another name, fails) and a fresh profile.
 */
export async function launchPortalBrowser(caPem: string): Promise<PortalBrowser> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'portal-chromium-'));
  const nssdb = path.join(home, '.pki', 'nssdb');
  await mkdir(nssdb, { recursive: true });
  await writeFile(path.join(home, 'fleet-ca.pem'), caPem);
  execFileSync('certutil', ['-N', '--empty-password', '-d', `sql:${nssdb}`]);
  execFileSync('certutil', [
    '-A',
    '-n',
    'agent-fleet CA',
    '-t',
    'C,,',
    '-i',
    path.join(home, 'fleet-ca.pem'),
    '-d',
    `sql:${nssdb}`,
  ]);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: home },
  });
  return {
    browser,
    async newAdmin(viewport = DESKTOP) {
      const context = await browser.newContext({ viewport, acceptDownloads: true });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      return { context, page, cdp, authenticatorId };
    },
    async close() {
      await browser.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** axe-core in the page: WCAG 2.x A and AA rules and best practices; fails with every violation listed. */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  const violations = result.violations.map(
    (violation) =>
      `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
  );
  assert.deepEqual(violations, [], `${label}: accessibility violations`);
  assert.ok(result.passes.length >= 10, `${label}: axe ran its rules (${result.passes.length} passed)`);
  // Usable on a phone: nothing wider than the viewport.
  const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
  assert.ok(overflow <= 0, `${label}: the page is ${overflow}px wider than the viewport`);
}

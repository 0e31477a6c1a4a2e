import type { Page } from 'playwright-core';
import type { PortalBrowser } from './browser.ts';
import { enrolWithPasskey } from './flows.ts';
import type { MemorySettingsGateway } from './memory-settings-gateway.ts';
import type { PortalHarness } from './portal-harness.ts';

/** The settings pages in the order the tour shows them. */
export const SETTINGS_PAGES = ['settings', 'settings-field-error', 'settings-confirm', 'settings-saved', 'settings-history', 'summary-charts'];

/** Sample settings for acme: a block list, the defaults, a mailbox grant missing what sending needs. */
export function seedSettings(settings: MemorySettingsGateway, now: Date): void {
  if (settings.versions.has('acme')) return;
  settings.addClient('acme', {
    admins: ['admin@acme.com', 'second@acme.com'],
    permissions: { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'calendar.read': true },
    onboarding: { startedAt: new Date(now.getTime() - 40 * 86_400_000).toISOString(), days: 28 },
    blockList: ['rival.example'],
    autoSendTypes: ['acknowledgement', 'scheduling_confirmation'],
    rateLimits: { perHour: 40, perDay: 100 },
  });
  settings.grant = { ...settings.grant, state: 'needs_reconsent', missing: ['https://www.googleapis.com/auth/gmail.send'] };
  settings.graduationRows = [
    { type: 'follow_up', unchanged: 24, edited: 1, rejected: 0, expired: 2, decisions: 25, unchangedShare: 0.96, autoSend: false, suggest: true, why: '96 % of 25 drafts approved unchanged: auto-send (templates only) is suggested' },
    { type: 'question', unchanged: 12, edited: 6, rejected: 2, expired: 0, decisions: 20, unchangedShare: 0.6, autoSend: false, suggest: false, why: 'no reply templates exist for this type, so it cannot be sent without approval' },
    { type: 'offer', unchanged: 30, edited: 0, rejected: 0, expired: 0, decisions: 30, unchangedShare: 1, autoSend: false, suggest: false, why: 'always needs your approval: the security policy keeps this type for a human' },
  ];
}

/**
 * Walks the settings pages in one viewport: the settings, fields refused next to the field (a whole
 * number and the daily model budget), the confirmation step of two guard rails (both raised), the saved
 * version, the history and the summary with its charts.
 */
export async function tourSettings(
  h: PortalHarness,
  settings: MemorySettingsGateway,
  chromium: PortalBrowser,
  viewport: { width: number; height: number },
  visit: (name: string, page: Page) => Promise<void>,
): Promise<void> {
  seedSettings(settings, h.clock.now());
  const admin = await chromium.newAdmin(viewport);
  const p = admin.page;
  await enrolWithPasskey(h, admin, 'acme', 'admin@acme.com');
  await p.goto(`${h.portal.url}/settings`);
  await visit('settings', p);
  const limits = p.locator('section[aria-labelledby="h-limits"]');
  const budget = limits.getByLabel(/^Daily language-model budget/);
  const raised = String(Number(await limits.getByLabel(/^Recipients per hour/).inputValue()) + 20);
  const raisedBudget = String(Number(await budget.inputValue()) + 30);
  await limits.getByLabel(/^Recipients per hour/).fill('lots');
  await budget.fill('1,500');
  await limits.getByLabel(/^Why are you changing this/).fill('Busy season');
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await p.locator('#err-perHour').waitFor();
  await p.locator('#err-modelDailyBudgetUsd').waitFor();
  await visit('settings-field-error', p);
  await limits.getByLabel(/^Recipients per hour/).fill(raised);
  await budget.fill(raisedBudget);
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await p.getByRole('heading', { name: 'Confirm this change' }).waitFor();
  await p.getByRole('heading', { name: /language-model budget/ }).waitFor();
  await visit('settings-confirm', p);
  await p.getByLabel(/I have read the risks/).check();
  await p.getByRole('button', { name: 'Make the change' }).click();
  await p.getByText(/Saved as version/).waitFor();
  await visit('settings-saved', p);
  await p.goto(`${h.portal.url}/settings/history`);
  await visit('settings-history', p);
  await p.goto(`${h.portal.url}/summary?date=${h.clock.now().toISOString().slice(0, 10)}`);
  await p.locator('figure.chart').first().waitFor();
  await visit('summary-charts', p);
  await admin.context.close();
}

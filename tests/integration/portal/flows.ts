import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import type { AdminBrowser } from './browser.ts';
import type { PortalHandle } from '../../../orchestrator/src/portal/start-portal.ts';

/** What the flows need of a portal under test: the phase-1 harness or the portal of a real orchestrator. */
export interface PortalUnderTest {
  portal: Pick<PortalHandle, 'url' | 'inviteAdmin'>;
  clock: { now(): Date };
}
type PortalHarness = PortalUnderTest;

/** Opens an enrolment link, starts it and creates a passkey (the virtual authenticator answers); not finished. */
export async function startEnrolment(
  h: PortalHarness,
  admin: AdminBrowser,
  clientId: string,
  email: string,
): Promise<void> {
  const invite = await h.portal.inviteAdmin(clientId, email);
  await admin.page.goto(invite.url);
  await admin.page.getByRole('button', { name: 'Start the set-up' }).click();
  await admin.page.waitForURL('**/enrol/setup');
}

export async function createPasskey(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Create a passkey|Add another passkey/ }).click();
  await page.getByText(/Passkey saved/).waitFor();
}

export async function finishEnrolment(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Finish and sign in' }).click();
  await page.waitForURL('**/approvals');
}

/** The whole enrolment with a passkey: afterwards the admin is signed in. */
export async function enrolWithPasskey(
  h: PortalHarness,
  admin: AdminBrowser,
  clientId: string,
  email: string,
): Promise<void> {
  await startEnrolment(h, admin, clientId, email);
  await createPasskey(admin.page);
  await finishEnrolment(admin.page);
}

export function totpCode(h: PortalHarness, secret: string): Promise<string> {
  return generate({ secret, epoch: Math.floor(h.clock.now().getTime() / 1000) });
}

/** Sets up the authenticator app on the set-up page; returns its secret. */
export async function setUpApp(h: PortalHarness, page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const secret = (await page.locator('.secret code').innerText()).replace(/\s+/g, '');
  await page.getByLabel('The 6-digit code your app shows now').fill(await totpCode(h, secret));
  await page.getByRole('button', { name: 'Confirm the app' }).click();
  await page.getByText('Authenticator app set up.').waitFor();
  return secret;
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('banner').getByRole('button', { name: /Sign out/ }).click();
  await page.waitForURL('**/sign-in?notice=signed-out');
}

export async function signInWithPasskey(h: PortalHarness, page: Page, path = '/sign-in'): Promise<void> {
  if (!page.url().includes(path)) await page.goto(`${h.portal.url}${path}`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
}

export async function signInWithCode(
  h: PortalHarness,
  page: Page,
  email: string,
  code: string,
): Promise<void> {
  await page.goto(`${h.portal.url}/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('6-digit code').fill(code);
  await page.getByRole('button', { name: 'Sign in with the code' }).click();
}

/** The CSRF token of the page's session (from its meta tag). */
export async function csrfOf(page: Page): Promise<string> {
  return (await page.locator('meta[name="csrf-token"]').getAttribute('content')) ?? '';
}

/** What a form POST from the page answered (sent by the page itself: its cookies, its origin; no redirects followed). */
export interface FormAnswer {
  status: number;
  text: string;
}

export async function postForm(
  h: PortalHarness,
  page: Page,
  path: string,
  form: Record<string, string>,
): Promise<FormAnswer> {
  if (!page.url().startsWith(h.portal.url)) await page.goto(`${h.portal.url}/sign-in`);
  return page.evaluate(
    async ({ path, form }) => {
      const answer = await fetch(path, {
        method: 'POST',
        body: new URLSearchParams(form),
        redirect: 'manual',
        credentials: 'same-origin',
      });
      return { status: answer.type === 'opaqueredirect' ? 303 : answer.status, text: await answer.text() };
    },
    { path, form },
  );
}

/** A GET without any cookie (a mail scanner following a link). */
export async function getWithoutCookies(page: Page, url: string): Promise<FormAnswer> {
  return page.evaluate(async (url) => {
    const answer = await fetch(url, { credentials: 'omit', redirect: 'manual' });
    return { status: answer.type === 'opaqueredirect' ? 303 : answer.status, text: await answer.text() };
  }, url);
}

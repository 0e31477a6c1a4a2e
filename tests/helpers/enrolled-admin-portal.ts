// The portal app with one admin enrolled (an authenticator app set up), for tests of what a signed-in
// admin, or a browser beside them, can do.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startIdentityApp, type IdentityApp, type TestBrowser } from '../unit/portal/identity-app-harness.ts';
import { MINUTE, startIdentityFixture, type IdentityFixture } from '../unit/portal/identity-fixture.ts';

export interface EnrolledAdminPortal {
  f: IdentityFixture;
  app: IdentityApp;
  /** A new browser signed in as the admin with a fresh code (the clock moved on a minute first). */
  signedIn(): Promise<TestBrowser>;
  close(): Promise<void>;
}

/** Starts the portal app over a fresh data directory named after `prefix`, with `admin` enrolled. */
export async function startEnrolledAdminPortal(admin: { clientId: string; email: string }, prefix: string): Promise<EnrolledAdminPortal> {
  const f = await startIdentityFixture();
  f.admins.set(admin.clientId, [admin.email]);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const app = await startIdentityApp(f, dataDir);
  const enrolling = await f.startEnrolment(admin);
  const secret = await f.setUpApp(admin, enrolling);
  assert.equal(await f.enrolment.finish(admin, enrolling.enrolmentHash), true);
  return {
    f,
    app,
    signedIn: async () => {
      f.advance(MINUTE);
      const browser = app.browser();
      await browser.get('/sign-in');
      const answer = await browser.post('/sign-in/code', { email: admin.email, code: await f.code(secret) });
      assert.equal(answer.location, '/approvals', answer.text.slice(0, 300));
      return browser;
    },
    close: async () => {
      await app.close();
      await f.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

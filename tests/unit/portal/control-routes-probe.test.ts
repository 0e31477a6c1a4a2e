// Probes of the kill switch and revive routes: a kill that fails part way (the registry says stopped
// before the lockdown runs) used to reach the error page, which tells the admin "Nothing was changed" and
// links to approvals, while the agent may still be running and the stop page is where it is finished.
// Also: the client acted on is the session's, never one in the form; a CSRF token works only for the
// session it was issued to (an admin of another client cannot reuse one); a double submit of revive
// revives once and tells the second in plain words.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import express from 'express';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ClientGateway, ClientStatusView, KillOutcome } from '../../../orchestrator/src/portal/client-gateway.ts';
import { formBody } from '../../../orchestrator/src/portal/http/form-body.ts';
import { PageError } from '../../../orchestrator/src/portal/http/page-error.ts';
import { controlRoutes } from '../../../orchestrator/src/portal/http/routes-controls.ts';
import { SessionManager } from '../../../orchestrator/src/portal/identity/sessions.ts';
import type { PortalContext } from '../../../orchestrator/src/portal/portal-context.ts';
import type { SessionStore } from '../../../orchestrator/src/ports/portal-store.ts';
import { startRouteHarness } from './portal-route-harness.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

/** A gateway that records which client each action reached, over one client's running-or-stopped state. */
function recordingGateway(kill: (clientId: string) => Promise<KillOutcome>) {
  const actions: { action: string; clientId: string }[] = [];
  const state = { killed: false };
  const gateway = {
    admins: async () => [ADMIN.email],
    status: async (): Promise<ClientStatusView> => ({ killed: state.killed, reason: null }),
    kill: async (clientId: string) => {
      actions.push({ action: 'kill', clientId });
      return kill(clientId);
    },
    revive: async (clientId: string) => {
      actions.push({ action: 'revive', clientId });
    },
  } as Partial<ClientGateway> as ClientGateway;
  return { gateway, actions, state };
}

describe('a kill that did not complete', () => {
  for (const failure of [new FleetError('unavailable', 'vault: connection refused'), new Error('docker: stop timed out')]) {
    test(`says the agent may still be running and leads back to the stop page, never "nothing was changed" (${failure.message})`, async () => {
      const { gateway } = recordingGateway(async () => {
        throw failure;
      });
      const harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
      try {
        const page = await harness.post('/kill', { reason: 'Odd replies' });
        assert.equal(page.status, 500);
        assert.match(page.text, /<h1>The stop may not have completed<\/h1>/);
        assert.match(page.text, /the agent may still be running/);
        assert.match(page.text, /<a href="\/kill">Back to the stop page<\/a>/);
        assert.doesNotMatch(page.text, /Nothing was changed|has been notified|vault|docker/);
      } finally {
        await harness.close();
      }
    });
  }

  test('a client the registry does not know is the one not-found page', async () => {
    const { gateway } = recordingGateway(async () => {
      throw new FleetError('not_found', 'no client "acme" in the registry');
    });
    const harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
    try {
      assert.equal((await harness.post('/kill', { reason: 'Odd replies' })).status, 404);
    } finally {
      await harness.close();
    }
  });
});

describe('the client a control acts on', () => {
  test('is the signed-in admin\'s: a form naming another client is refused and changes nothing', async () => {
    const { gateway, actions, state } = recordingGateway(async () => ({ alreadyStopped: false }));
    const harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
    try {
      for (const field of ['clientId', 'client']) {
        assert.equal((await harness.post('/kill', { reason: 'Odd replies', [field]: 'globex' })).status, 400);
        state.killed = true;
        assert.equal((await harness.post('/revive', { reason: 'Checked', [field]: 'globex' })).status, 400);
        state.killed = false;
      }
      assert.deepEqual(actions, []);
      assert.equal((await harness.post('/kill', { reason: 'Odd replies' })).status, 200);
      assert.deepEqual(actions, [{ action: 'kill', clientId: 'acme' }]);
    } finally {
      await harness.close();
    }
  });

  test('a CSRF token of another client\'s admin (another session) is refused, and nothing reaches the gateway', async () => {
    // The portal's own sessions; the store only has to take the two sessions started here.
    const sessions = new SessionManager({
      store: { createSession: async () => undefined } as Partial<SessionStore> as SessionStore,
      clock: { now: () => new Date('2026-03-10T12:00:00.000Z') },
      csrfKey: randomBytes(32),
      policy: { idleMs: 30 * 60_000, absoluteMs: 12 * 60 * 60_000 },
    });
    const { gateway, actions } = recordingGateway(async () => ({ alreadyStopped: false }));
    const acme = await sessions.start('active', ADMIN);
    const globex = await sessions.start('active', { clientId: 'globex', email: 'kim@globex.example' });
    const context = { gateway, sessions, logger: createSilentLogger(), publicUrl: () => 'http://127.0.0.1' } as unknown as PortalContext;
    const app = express();
    app.use(formBody());
    app.use((_request, response, next) => {
      response.locals['portal'] = { active: globex, admin: { clientId: 'globex', email: 'kim@globex.example' }, pre: null };
      next();
    });
    app.use(controlRoutes(context));
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
      response.status(error instanceof PageError ? error.status : 500).type('text').send(String(error));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const post = async (path: string, csrf: string) =>
      (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, reason: 'Odd replies' }) })).status;
    try {
      for (const path of ['/kill', '/revive']) assert.equal(await post(path, sessions.csrfToken(acme)), 403);
      assert.deepEqual(actions, []);
      assert.equal(await post('/kill', sessions.csrfToken(globex)), 200);
      assert.deepEqual(actions, [{ action: 'kill', clientId: 'globex' }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('a double submit of revive', () => {
  test('revives once; the second is told in plain words that the agent is not stopped', async () => {
    const state = { killed: true, revives: 0 };
    // As the revive service: an atomic claim from killed, so of two at once exactly one goes on.
    const gateway = {
      admins: async () => [ADMIN.email],
      status: async (): Promise<ClientStatusView> => ({ killed: state.killed, reason: null }),
      revive: async () => {
        if (!state.killed) throw new FleetError('conflict', 'acme is being revived (or provisioned) by another operation; check `fleet status acme`');
        state.killed = false;
        await new Promise((resolve) => setImmediate(resolve));
        state.revives += 1;
      },
    } as Partial<ClientGateway> as ClientGateway;
    const harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
    try {
      const pages = await Promise.all([harness.post('/revive', { reason: 'Checked' }), harness.post('/revive', { reason: 'Checked' })]);
      assert.deepEqual(pages.map((page) => page.status).sort(), [200, 409]);
      const second = pages.find((page) => page.status === 409)!;
      assert.match(second.text, /Nothing was changed: The agent is not stopped/);
      assert.doesNotMatch(second.text, /fleet status|operation/);
      assert.equal(state.revives, 1);
    } finally {
      await harness.close();
    }
  });
});

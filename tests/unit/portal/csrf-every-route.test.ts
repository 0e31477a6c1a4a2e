// Every route of the portal that is not a GET, found by walking the app's routers (so a route added later
// is covered without being listed here): a browser holding both kinds of session is refused (403, nothing
// reaches a route) when the post lacks the CSRF token, and when it carries the token but comes from
// another site's page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { PRE_COOKIE, SESSION_COOKIE } from '../../../orchestrator/src/portal/http/cookies.ts';
import { createPortalApp } from '../../../orchestrator/src/portal/http/portal-app.ts';
import type { PortalContext } from '../../../orchestrator/src/portal/portal-context.ts';
import { startEnrolledAdminPortal, type EnrolledAdminPortal } from '../../helpers/enrolled-admin-portal.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const PARAMS: Record<string, string> = { id: 'ap-1', grantId: 'sg-0123456789abcdef', section: 'rules', token: 'enrol-token' };

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };

/** `METHOD path` of every route in the portal app, parameters filled in. */
function stateChangingRoutes(): { method: string; path: string }[] {
  const app = createPortalApp({ logger: createSilentLogger() } as unknown as PortalContext, { behindProxy: false });
  const found: { method: string; path: string }[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? 'x');
        for (const method of Object.keys(layer.route.methods)) if (method !== 'get' && method !== 'head') found.push({ method, path });
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

describe('CSRF on every state-changing route', () => {
  let portal: EnrolledAdminPortal;
  let cookie = '';
  let token = '';

  before(async () => {
    portal = await startEnrolledAdminPortal(ADMIN, 'portal-csrf-routes-');
    const browser = await portal.signedIn();
    const page = await browser.get('/approvals');
    token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    // A pre-session beside the signed-in one, as a browser mid-enrolment has.
    const anonymous = portal.app.browser();
    await anonymous.get('/sign-in');
    cookie = `${SESSION_COOKIE}=${browser.cookie(SESSION_COOKIE) ?? ''}; ${PRE_COOKIE}=${anonymous.cookie(PRE_COOKIE) ?? ''}`;
  });
  after(() => portal.close());

  const send = (route: { method: string; path: string }, fields: Record<string, string>, origin: string) =>
    fetch(`${portal.app.url}${route.path}`, {
      method: route.method.toUpperCase(),
      redirect: 'manual',
      body: new URLSearchParams(fields),
      headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
    });

  test('the walk finds the routes it should', () => {
    const paths = stateChangingRoutes().map((route) => route.path);
    for (const path of ['/kill', '/revive', '/review/handled', '/settings/section/rules', '/approvals/ap-1/approve', '/sign-out', '/enrol/finish', '/export']) {
      assert.ok(paths.includes(path), path);
    }
  });

  test('without the token, or with it from another site, every one is refused before it acts', async () => {
    assert.notEqual(token, '');
    for (const route of stateChangingRoutes()) {
      const label = `${route.method} ${route.path}`;
      const missing = await send(route, { reason: 'stop', message: 'm-1', decision: 'approve' }, portal.app.url);
      assert.equal(missing.status, 403, `${label} without a token`);
      await missing.body?.cancel();
      const foreign = await send(route, { _csrf: token, reason: 'stop', message: 'm-1', decision: 'approve' }, 'https://evil.example');
      assert.equal(foreign.status, 403, `${label} from another site`);
      await foreign.body?.cancel();
    }
  });
});

// An enrolment in progress lives in the pre-session cookie. It was SameSite=Strict, so a browser left it
// out of any navigation from another site (a link in webmail: an approval email, a second invitation, a
// page made to send the admin there): the portal saw no pre-session, made a new one and its cookie
// replaced the enrolling one. The set-up tab then failed ("This form has expired") and the enrolment link,
// already used, was lost with it. The pre-session cookie is now SameSite=Lax: sent on top-level
// navigations from elsewhere (a GET, which changes nothing), never on another site's POSTs or frames.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { PortalContext } from '../../../orchestrator/src/portal/portal-context.ts';
import { PRE_COOKIE, SESSION_COOKIE, setSessionCookie } from '../../../orchestrator/src/portal/http/cookies.ts';
import { ensurePre, loadSessions, stateOf } from '../../../orchestrator/src/portal/http/request-state.ts';
import { startIdentityFixture, type IdentityFixture } from './identity-fixture.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

/**
 * The browser's part, as RFC 6265bis has it: cookies kept by name; a navigation from another site carries
 * only those that are not SameSite=Strict.
 */
class CookieJar {
  private readonly cookies = new Map<string, { value: string; sameSite: string }>();

  keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const [name = '', value = ''] = pair.split('=');
      const sameSite =
        attributes.find((attribute) => /^samesite=/i.test(attribute))?.split('=')[1]?.toLowerCase() ?? 'lax';
      if (attributes.some((attribute) => /^max-age=0$/i.test(attribute))) this.cookies.delete(name);
      else this.cookies.set(name, { value, sameSite });
    }
  }

  header(crossSite: boolean): string {
    return [...this.cookies]
      .filter(([, cookie]) => !crossSite || cookie.sameSite !== 'strict')
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  attributes(name: string): string | undefined {
    return this.cookies.get(name)?.sameSite;
  }
}

describe('the pre-session across sites', () => {
  let f: IdentityFixture;
  let base: string;
  let close: () => Promise<void>;
  before(async () => {
    f = await startIdentityFixture();
    f.admins.set('acme', [ADMIN.email]);
    const context = {
      sessions: f.sessions,
      store: f.store,
      gateway: { admins: async (clientId: string) => f.admins.get(clientId) ?? [] },
      logger: createSilentLogger(),
      publicUrl: () => 'http://127.0.0.1',
    } as unknown as PortalContext;
    const app = express();
    app.use(loadSessions(context));
    // As POST /enrol/:token leaves it: the enrolling session in the pre-session cookie.
    app.get('/started', (_request, response, next) => {
      f.startEnrolment(ADMIN).then(({ session }) => {
        setSessionCookie(response, PRE_COOKIE, session.token);
        response.end();
      }, next);
    });
    app.get('/signed-in', (_request, response, next) => {
      f.sessions.start('active', ADMIN).then((session) => {
        setSessionCookie(response, SESSION_COOKIE, session.token);
        response.end();
      }, next);
    });
    // As GET /sign-in, /enrol/:token and /a/:token do.
    app.get('/sign-in', (_request, response, next) => {
      ensurePre(context, response).then(() => response.end(), next);
    });
    app.get('/stage', (_request, response) => {
      const state = stateOf(response);
      response.json({ pre: state.pre?.record.stage ?? null, active: state.active !== null });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  after(async () => {
    await close();
    await f.close();
  });

  async function visit(jar: CookieJar, path: string, crossSite = false): Promise<Response> {
    const response = await fetch(`${base}${path}`, { headers: { cookie: jar.header(crossSite) } });
    jar.keep(response);
    return response;
  }

  test('a link from another site leaves the enrolment in progress as it was', async () => {
    const jar = new CookieJar();
    await visit(jar, '/started');
    assert.deepEqual(await (await visit(jar, '/stage')).json(), { pre: 'enrolling', active: false });
    await visit(jar, '/sign-in', true);
    assert.deepEqual(
      await (await visit(jar, '/stage')).json(),
      { pre: 'enrolling', active: false },
      'still enrolling after a navigation from another site',
    );
  });

  test('the signed-in session stays SameSite=Strict: no other site’s link arrives signed in', async () => {
    const jar = new CookieJar();
    await visit(jar, '/signed-in');
    assert.equal(jar.attributes(SESSION_COOKIE), 'strict');
    assert.deepEqual(await (await visit(jar, '/stage', true)).json(), { pre: null, active: false });
    assert.deepEqual(await (await visit(jar, '/stage')).json(), { pre: null, active: true });
  });
});

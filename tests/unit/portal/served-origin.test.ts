// A portal serving TLS itself named its origin https://<first TLS name>:<port> as configured. Browsers send
// `Origin` as the URL standard writes it: the host in lower case and no port when it is 443. With
// PORTAL_TLS_NAMES=Portal.Example.com, or PORTAL_PORT=443, every form post (the kill switch's included)
// was refused as coming from another site, and every passkey as made for another origin.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import express from 'express';
import { formBody } from '../../../orchestrator/src/portal/http/form-body.ts';
import { requireCsrf } from '../../../orchestrator/src/portal/http/request-state.ts';
import type { PortalContext } from '../../../orchestrator/src/portal/portal-context.ts';
import { portalOrigin, selfServedOrigin } from '../../../orchestrator/src/domain/portal-origin.ts';

/** Posts a form carrying a valid token from `origin` to a portal whose origin is `portalOrigin`; the status. */
async function postFrom(portalOrigin: string, origin: string): Promise<number> {
  const context = {
    publicUrl: () => portalOrigin,
    sessions: { csrfValid: (_session: unknown, presented: unknown) => presented === 'token-under-test' },
  } as unknown as PortalContext;
  const app = express();
  app.use(formBody());
  app.use((_request, response, next) => {
    response.locals['portal'] = { active: { token: 'session' }, admin: { clientId: 'acme', email: 'dana@acme.example' }, pre: null };
    next();
  });
  app.post('/kill', requireCsrf(context, 'active'), (_request, response) => {
    response.status(200).end();
  });
  app.use((error: { status?: number }, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    response.status(error.status ?? 500).end();
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  try {
    const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/kill`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: 'token-under-test', reason: 'stop it' }),
    });
    return answer.status;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('the origin of a portal serving TLS itself', () => {
  test('is written as browsers send it: lower-case host, no :443, IPv6 in brackets', () => {
    assert.equal(selfServedOrigin(['Portal.Example.COM'], 443), 'https://portal.example.com');
    assert.equal(selfServedOrigin(['portal.example.com', 'other.example.com'], 7443), 'https://portal.example.com:7443');
    assert.equal(selfServedOrigin(['0:0:0:0:0:0:0:1'], 7443), 'https://[::1]:7443');
    assert.equal(selfServedOrigin([], 8443), 'https://localhost:8443');
    assert.equal(portalOrigin({ publicUrl: undefined, tlsNames: ['Portal.Example.COM'], port: 443 }), 'https://portal.example.com', 'the links the agents mail say it the same way');
  });

  test('a form posted from the portal’s own page on port 443 under a capitalised name is accepted; another site’s is not', async () => {
    const origin = selfServedOrigin(['Portal.Example.com'], 443);
    assert.equal(await postFrom(origin, 'https://portal.example.com'), 200);
    assert.equal(await postFrom(origin, 'https://portal.example.com.evil.example'), 403);
    assert.equal(await postFrom(origin, 'null'), 403);
  });
});

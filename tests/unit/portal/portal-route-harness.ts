// A signed-in admin in front of one group of the portal's routes, in-process on loopback: the session,
// CSRF and client status are stubbed so a test drives only the route's own logic over real forms and views.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { PortalContext } from '../../../orchestrator/src/portal/portal-context.ts';
import { formBody } from '../../../orchestrator/src/portal/http/form-body.ts';
import { PageError } from '../../../orchestrator/src/portal/http/page-error.ts';

export interface RouteHarness {
  /** POSTs a form; answers the status and the page. */
  post(path: string, fields: Record<string, string>): Promise<{ status: number; text: string }>;
  get(path: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export async function startRouteHarness(
  routes: (context: PortalContext) => express.Router,
  parts: Partial<PortalContext>,
  admin = { clientId: 'acme', email: 'dana@acme.example' },
): Promise<RouteHarness> {
  const session = { id: 'session-under-test' };
  const context = {
    clock: { now: () => new Date('2026-03-10T12:00:00.000Z') },
    logger: createSilentLogger(),
    sessions: { csrfToken: () => 'csrf-under-test', csrfValid: (_session: unknown, presented: unknown) => presented === 'csrf-under-test' },
    publicUrl: () => 'http://127.0.0.1',
    ...parts,
  } as unknown as PortalContext;
  const app = express();
  app.use(formBody());
  app.use((_request, response, next) => {
    response.locals['portal'] = { active: session, admin, pre: null };
    next();
  });
  app.use(routes(context));
  app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    if (error instanceof PageError) response.status(error.status).type('text').send(`${error.title}: ${error.message}`);
    else response.status(500).type('text').send(String(error));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const answer = async (response: Response) => ({ status: response.status, text: await response.text() });
  return {
    post: async (path, fields) =>
      answer(await fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: 'csrf-under-test', ...fields }) })),
    get: async (path) => answer(await fetch(`${base}${path}`, { redirect: 'manual' })),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
